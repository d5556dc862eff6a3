"""``is_prime``: whether a whole number is prime, with its smallest factor when it is not.

Deterministic Miller-Rabin (exact for every n below 3.3 * 10**24, far beyond the limit), then
trial division for the smallest factor up to ``MAX_FACTOR_SEARCH``. What it refuses: numbers
above ``MAX_N`` (the answer is still exact, but a factor may be too slow to find).
"""

from __future__ import annotations

from agentthink.errors import ToolError
from agentthink.tools.base import Tool

__all__ = ["MAX_N", "is_prime", "is_prime_tool", "smallest_factor"]

MAX_N = 10**18
MAX_FACTOR_SEARCH = 10**6
_BASES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)


def is_prime(n: int) -> bool:
    """Whether ``n`` is prime (exact for n < 3.3e24)."""
    if n < 2:
        return False
    for p in _BASES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for a in _BASES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def smallest_factor(n: int) -> int | None:
    """The smallest prime factor of a composite ``n`` (None when none is found below
    ``MAX_FACTOR_SEARCH``)."""
    if n % 2 == 0:
        return 2
    f = 3
    while f * f <= n and f <= MAX_FACTOR_SEARCH:
        if n % f == 0:
            return f
        f += 2
    return None


def is_prime_tool(*, name: str = "is_prime") -> Tool:
    """A tool that says whether a whole number is prime."""

    def check(n: int) -> str:
        """Say whether a whole number is prime; when it is not, give a factor.

        Args:
            n: the whole number to test, e.g. 97
        """
        if abs(n) > MAX_N:
            raise ToolError(f"n must be at most {MAX_N:.0e} in size, got {n}")
        if n < 2:
            return f"No: {n} is not prime (primes are whole numbers greater than 1)"
        if is_prime(n):
            return f"Yes: {n} is prime"
        factor = smallest_factor(n)
        if factor is None:
            return f"No: {n} is not prime"
        return f"No: {n} is not prime ({n} = {factor} × {n // factor})"

    check.__name__ = name
    return Tool.from_function(check, name=name, timeout=5.0)
