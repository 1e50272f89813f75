"""Package exports that load on first use (PEP 562), so a light command stays light.

A stage package re-exports its public names, but importing every submodule up front would
make ``classify`` and ``query`` import sigstore. A package lists its submodules and the names each
exports, and sets ``__getattr__ = lazy_exports(__name__, EXPORTS)``; type checkers read the
same names from its ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``name`` comes from ``package.<module>`` that lists it."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__


__all__ = ["lazy_exports"]
