"""``calculator``: arithmetic and common math functions, evaluated safely.

The expression is parsed with ``ast.parse(mode="eval")`` and walked node by node; nothing is
``eval``-ed. What it refuses, and why:

- anything that is not a number, an operator, a parenthesis, a comparison or a call of a
  whitelisted function or constant: names, attribute access (``().__class__``), subscripts,
  strings, lambdas, comprehensions, keyword arguments, ``__import__`` ... (this is a
  calculator, not an interpreter: that is the whole of its safety);
- ``^`` (in Python it is XOR, almost never what a model means: use ``**``);
- work that would explode: integers beyond ``MAX_INT_BITS`` bits (checked *before* computing a
  power, product or shift, from the operands' sizes, so ``9**9**9`` is refused at once),
  ``factorial``/``comb``/``perm`` of more than ``MAX_FACTORIAL``, ``round`` to more than 100
  digits, expressions longer than ``MAX_EXPRESSION_CHARS`` or nested deeper than
  ``MAX_DEPTH``.

Errors (division by zero, a math domain error, an overflow) come back as tool errors saying
what went wrong.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from agentthink.errors import ToolError
from agentthink.tools.base import Tool
from agentthink.tools.builtins.arith_words import words_to_symbols

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPRESSION_CHARS",
    "MAX_FACTORIAL",
    "MAX_INT_BITS",
    "calculator_tool",
    "evaluate",
]

MAX_INT_BITS = 14_000  # about 4,200 decimal digits (Python prints at most 4,300 by default)
MAX_FACTORIAL = 1_000
MAX_EXPRESSION_CHARS = 1_000
MAX_DEPTH = 50

Number = int | float

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}


def _bounded_int(name: str, n: Any, limit: int) -> int:
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool):
        raise ToolError(f"{name}() needs a whole number, got {n!r}")
    if n > limit:
        raise ToolError(f"{name}() is limited to arguments up to {limit} (got {n})")
    return n


def _factorial(n: Any) -> int:
    return math.factorial(_bounded_int("factorial", n, MAX_FACTORIAL))


def _comb(n: Any, k: Any) -> int:
    return math.comb(_bounded_int("comb", n, MAX_FACTORIAL), _bounded_int("comb", k, MAX_FACTORIAL))


def _perm(n: Any, k: Any) -> int:
    return math.perm(_bounded_int("perm", n, MAX_FACTORIAL), _bounded_int("perm", k, MAX_FACTORIAL))


def _round(x: Any, ndigits: Any = None) -> Number:
    if ndigits is None:
        return round(x)  # type: ignore[no-any-return]
    if not isinstance(ndigits, int) or abs(ndigits) > 100:
        raise ToolError("round() takes at most 100 digits")
    return round(x, ndigits)  # type: ignore[no-any-return]


def _lcm(*args: Any) -> int:
    if sum(abs(int(a)).bit_length() for a in args) > MAX_INT_BITS:
        raise ToolError(f"lcm() result would exceed {MAX_INT_BITS} bits")
    return math.lcm(*args)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt, "isqrt": math.isqrt, "cbrt": lambda x: math.copysign(abs(x) ** (1 / 3), x),
    "exp": math.exp, "log": math.log, "log10": math.log10, "log2": math.log2, "log1p": math.log1p,
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "asin": math.asin, "acos": math.acos,
    "atan": math.atan, "atan2": math.atan2, "sinh": math.sinh, "cosh": math.cosh,
    "tanh": math.tanh, "hypot": math.hypot, "degrees": math.degrees, "radians": math.radians,
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "abs": abs, "round": _round,
    "min": min, "max": max, "factorial": _factorial, "comb": _comb, "perm": _perm,
    "gcd": math.gcd, "lcm": _lcm,
}  # fmt: skip


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and _bits(value) > MAX_INT_BITS:
        raise ToolError(f"the result would exceed {MAX_INT_BITS} bits (about 4,200 digits)")
    return value


def _power(base: Any, exp: Any) -> Any:
    if isinstance(base, int) and isinstance(exp, int) and exp > 0 and abs(base) > 1:
        estimate = exp * math.log2(abs(base))
        if estimate > MAX_INT_BITS:
            raise ToolError(
                f"the power would have about {estimate:.3g} bits; the limit is {MAX_INT_BITS}"
            )
    result = operator.pow(base, exp)
    if isinstance(result, complex):
        raise ToolError("the result is a complex number; only real results are supported")
    return result


def _multiply(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > MAX_INT_BITS + 1:
        raise ToolError(f"the product would exceed {MAX_INT_BITS} bits")
    return a * b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(b, int) and b > 0 and _bits(a) + b > MAX_INT_BITS:
        raise ToolError(f"the shift would exceed {MAX_INT_BITS} bits")
    return a << b


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: _multiply,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: _power, ast.LShift: _lshift, ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos, ast.USub: operator.neg, ast.Invert: operator.invert,
    ast.Not: operator.not_,
}  # fmt: skip
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}  # fmt: skip


def _eval(node: ast.AST, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ToolError(f"the expression is nested too deeply (limit {MAX_DEPTH})")
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ToolError(f"only numbers are allowed, not {value!r}")
        return _check_int(value)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ToolError(
            f"unknown name {node.id!r}; constants: {', '.join(CONSTANTS)}; functions: "
            f"{', '.join(FUNCTIONS)}"
        )
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.BitXor):
            raise ToolError("'^' is not supported; write powers as ** (e.g. 2**10)")
        fn = _BINARY.get(type(node.op))
        if fn is None:
            raise ToolError(f"the operator {type(node.op).__name__} is not supported")
        return _check_int(fn(_eval(node.left, depth + 1), _eval(node.right, depth + 1)))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, depth + 1))
    if isinstance(node, ast.BoolOp):
        values = [_eval(v, depth + 1) for v in node.values]
        result = values[0]
        for v in values[1:]:
            result = (result and v) if isinstance(node.op, ast.And) else (result or v)
        return result
    if isinstance(node, ast.Compare):
        left = _eval(node.left, depth + 1)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            cmp = _COMPARE.get(type(op))
            if cmp is None:
                raise ToolError(f"the comparison {type(op).__name__} is not supported")
            right = _eval(right_node, depth + 1)
            if not cmp(left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ToolError(f"unknown function {shown!r}; available: {', '.join(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ToolError("functions take plain positional arguments only")
        args = [_eval(a, depth + 1) for a in node.args]
        return _check_int(FUNCTIONS[node.func.id](*args))
    raise ToolError(
        f"{type(node).__name__} is not allowed: use numbers, + - * / // % **, parentheses, "
        "comparisons and the listed functions"
    )


def evaluate(expression: str) -> Number | bool:
    """Evaluate a math expression; raises ``ToolError`` saying why when it cannot."""
    text = expression.strip().replace("×", "*").replace("÷", "/").replace("−", "-")
    text = words_to_symbols(text)
    if not text:
        raise ToolError("the expression is empty")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        raise ToolError(f"cannot parse the expression: {getattr(exc, 'msg', exc)}") from None
    try:
        result: Number | bool = _eval(tree.body, 0)
    except ToolError:
        raise
    except ZeroDivisionError:
        raise ToolError("division by zero") from None
    except OverflowError:
        raise ToolError("the result is too large to represent") from None
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ToolError(f"cannot compute: {exc}") from None
    except RecursionError:
        raise ToolError(f"the expression is nested too deeply (limit {MAX_DEPTH})") from None
    return result


def calculator_tool(*, name: str = "calculator") -> Tool:
    """A tool that evaluates arithmetic and math-function expressions safely."""

    def calculator(expression: str) -> str:
        """Evaluate a math expression in Python syntax and return the result.

        Supports numbers, + - * / // % ** (power), parentheses, comparisons, common words
        ("12 times 9", "2 to the power of 10", "15% of 80", "the square root of 169"), the constants
        pi, e, tau, inf and the functions sqrt, cbrt, exp, log (optional base), log10, log2,
        sin, cos, tan, asin, acos, atan, atan2, sinh, cosh, tanh, hypot, degrees, radians,
        floor, ceil, trunc, abs, round, min, max, factorial, comb, perm, gcd, lcm, isqrt.

        Args:
            expression: e.g. "sqrt(2) * (3 + 4)**2" or "factorial(20) / 3600"
        """
        return str(evaluate(expression))

    return Tool.from_function(calculator, name=name, timeout=10.0)
