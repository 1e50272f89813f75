"""Per-commit classification verdicts: which paths are identity-related and which rules fired."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from provenance.models import FileChange


@dataclass(frozen=True)
class PathVerdict:
    """One changed path (destination; ``old_path`` for renames) and the rules that fired."""

    path: str
    old_path: str | None
    rules: tuple[str, ...]


@dataclass(frozen=True)
class CommitClassification:
    """Every changed path of a commit with its verdict."""

    commit: str
    paths: tuple[PathVerdict, ...]

    @property
    def identity_related(self) -> bool:
        """True when any path fired any rule."""
        return any(p.rules for p in self.paths)

    @property
    def rules(self) -> tuple[str, ...]:
        """Sorted union of the rules that fired."""
        return tuple(sorted({r for p in self.paths for r in p.rules}))


#: Rule id for a path whose diff exceeded the reader's bounds: never silently not-required.
TRUNCATED_RULE = "diff.truncated"


def _utf16_lines(lines: tuple[str, ...]) -> tuple[str, ...] | None:
    """Re-read lines git split at 0x0A bytes as UTF-16 text (LE or BE), if they decode as such."""
    raw = b"\n".join(ln.encode("utf-8", "surrogateescape") for ln in lines)
    best: tuple[int, str] | None = None
    for data, codec in ((raw, "utf-16-be"), (raw[1:] + b"\x00", "utf-16-le"), (raw, "utf-16-le")):
        text = data.decode(codec, errors="replace")
        score = sum(ch.isascii() and (ch.isprintable() or ch in "\t\n") for ch in text)
        if score * 10 >= len(text) * 8 and (best is None or score > best[0]):
            best = (score, text)
    return tuple(best[1].lstrip("\ufeff").split("\n")) if best else None


def _has_nul(lines: tuple[str, ...]) -> bool:
    return any("\x00" in ln for ln in lines)


def _rules(change: FileChange, classify: Callable[[FileChange], tuple[str, ...]]) -> set[str]:
    """Rules for one change, also over a UTF-16 reading of NUL-laden text, plus truncation."""
    rules = set(classify(change))
    if any("\x00" in ln for ln in change.added + change.removed):
        # Each side on its own: a file converted from UTF-8 to UTF-16 has one side of each.
        added = _utf16_lines(change.added) if _has_nul(change.added) else change.added
        removed = _utf16_lines(change.removed) if _has_nul(change.removed) else change.removed
        rules |= set(
            classify(
                replace(
                    change,
                    added=change.added if added is None else added,
                    removed=change.removed if removed is None else removed,
                )
            )
        )
    if change.truncated:
        rules.add(TRUNCATED_RULE)
    return rules


def classify_changes(
    commit: str, changes: Iterable[FileChange], classify: Callable[[FileChange], tuple[str, ...]]
) -> CommitClassification:
    """Classify each change of one commit (a rename is one path with both names)."""
    merged: dict[tuple[str, str | None], set[str]] = {}  # a merge may diff a path per parent
    for c in changes:
        key = (c.path, c.old_path if c.old_path != c.path else None)
        merged.setdefault(key, set()).update(_rules(c, classify))
    verdicts = [
        PathVerdict(path=path, old_path=old, rules=tuple(sorted(rules)))
        for (path, old), rules in merged.items()
    ]
    return CommitClassification(commit, tuple(verdicts))


def classify_all(
    changes: Mapping[str, list[FileChange]],
    order: Iterable[str],
    classify: Callable[[FileChange], tuple[str, ...]],
    progress: Callable[[int, int], None] | None = None,
) -> list[CommitClassification]:
    """Classify every commit in ``order``, reporting progress every 100 commits."""
    shas = list(order)
    out = []
    for n, sha in enumerate(shas, 1):
        out.append(classify_changes(sha, changes[sha], classify))
        if progress is not None and (n % 100 == 0 or n == len(shas)):
            progress(n, len(shas))
    return out
