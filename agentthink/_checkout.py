"""``agentthink.tools`` and ``agentthink.policies`` when agentthink runs from a source checkout.

The code of these two packages lives in the checkout's top-level ``tools/`` and ``policies/``
folders; ``pyproject.toml`` maps them into the package (setuptools ``package-dir``), so a wheel
holds them as ``agentthink/tools`` and ``agentthink/policies``. A checkout imported as it is (the
current folder on ``sys.path``, say, or a git worktree next to an editable install of another
checkout) has no such folders inside ``agentthink/``: ``install`` then puts a finder first on
``sys.meta_path`` that maps the two names to the folders beside the ``agentthink`` package that
was imported, so the tools and policies always come from the same checkout as the rest.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

__all__ = ["MAPPED", "install"]

MAPPED = {"agentthink.tools": "tools", "agentthink.policies": "policies"}
"""Import name -> the checkout's top-level folder that holds it."""


class CheckoutFinder:
    """A meta path finder for the mapped packages of one checkout (their submodules are found
    through the package's ``__path__`` as usual)."""

    def __init__(self, folders: dict[str, Path]) -> None:
        self.folders = folders

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The spec of a mapped package, or None for every other module."""
        folder = self.folders.get(fullname)
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


def install(package_dir: Path) -> None:
    """Map the two packages to the folders beside ``package_dir`` when it is a checkout's
    ``agentthink/`` without them inside (an installed wheel has them: nothing is done)."""
    root = package_dir.parent
    if not (root / "pyproject.toml").is_file():
        return
    folders = {
        name: root / folder
        for name, folder in MAPPED.items()
        if not (package_dir / folder).exists() and (root / folder / "__init__.py").is_file()
    }
    if folders and not any(isinstance(f, CheckoutFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, CheckoutFinder(folders))
