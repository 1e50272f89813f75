"""Package exports that load on first use (PEP 562), so a light command stays light.

A stage package re-exports its public names, but importing every submodule up front would
make ``classify`` and ``query`` import sigstore. A package lists where each name lives and
sets ``__getattr__ = lazy_exports(__name__, EXPORTS)``; type checkers read the same names
from its ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<exports[name]>`` for ``name``."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


__all__ = ["lazy_exports"]
