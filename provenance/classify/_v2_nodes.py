"""Small readings of tree-sitter nodes shared by the neutrality stages."""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node


def arguments(call: Node) -> bool:
    """True when a call passes arguments."""
    for child in call.children:
        if child.type in ("argument_list", "arguments", "token_tree"):
            return any(c.is_named and "comment" not in c.type for c in child.children)
    return False


def has(node: Node, kinds: frozenset[str]) -> bool:
    """True when a node of one of ``kinds`` is ``node`` or below it."""
    return next(descendants(node, kinds), None) is not None


def descendants(node: Node, kinds: frozenset[str]) -> Iterator[Node]:
    """The nodes of ``kinds`` at or below ``node``."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in kinds:
            yield current
        stack.extend(current.children)


def leaves(node: Node) -> Iterator[Node]:
    """The leaves below ``node``, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.child_count == 0:
            yield current
        else:
            stack.extend(reversed(current.children))
