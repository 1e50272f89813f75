"""YAML read safely for the classifier: PyYAML's safe loader, without shared (aliased) nodes.

Manifests, lockfiles and workflows come from the candidate, so they are hostile input. The
safe loader builds only plain values. An alias makes two places share one object, which is
how a "billion laughs" document of a few kilobytes becomes a structure too large to walk, so
a document where any list or mapping is reached twice is refused. A document that does not
load is not understood, and the caller fails closed.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Lists and mappings a document may hold.
MAX_NODES = 1_000_000


def load_yaml(text: str) -> Any:
    """The single document in ``text``; ``ValueError`` when it is not plain, alias-free YAML."""
    try:
        value = yaml.load(text, Loader=_Loader)  # noqa: S506 -- a SafeLoader
    except (yaml.YAMLError, RecursionError) as e:
        raise ValueError(f"not plain YAML: {e}") from e
    seen: set[int] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict | list):
            if id(node) in seen or len(seen) >= MAX_NODES:
                raise ValueError("aliases (shared nodes) are not accepted")
            seen.add(id(node))
            stack.extend(node.values() if isinstance(node, dict) else node)
    return value
