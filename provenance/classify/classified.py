"""Per-commit classification verdicts: which paths are identity-related and which rules fired."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from provenance.classify._model import Finding
from provenance.classify._parallel import in_order
from provenance.models import FileChange

#: Where each fired rule fired in a change (``Classifier.locate``).
Locate = Callable[[FileChange, tuple[str, ...]], tuple[Finding, ...]]
#: Commits' changes (by sha) given back with the whole blobs the rules want attached.
Sources = Callable[[dict[str, list[FileChange]]], Mapping[str, list[FileChange]]]


@dataclass(frozen=True)
class PathVerdict:
    """One changed path (destination; ``old_path`` for renames) and the rules that fired.

    ``findings`` say where (hunks and rules) when the classifier can tell; a reviewer reads
    them to see in one line why approval is asked.
    """

    path: str
    old_path: str | None
    rules: tuple[str, ...]
    findings: tuple[Finding, ...] = ()


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

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Where the rules fired, path by path."""
        return tuple(f for p in self.paths for f in p.findings)


#: Rule id for a path whose diff exceeded the reader's bounds: never silently not-required.
TRUNCATED_RULE = "diff.truncated"


#: Printable ASCII (and tab, newline).
_PRINTABLE = bytes((9, 10, *range(0x20, 0x7F)))


def _printable(text: str) -> int:
    """How many characters of ``text`` are printable ASCII (tab and newline too).

    Counted in C on bytes (``str.translate`` with a dict took seconds on large blobs): the
    ASCII characters, less those that deleting the printable ones leaves.
    """
    ascii_only = text.encode("ascii", "ignore")
    return len(ascii_only) - len(ascii_only.translate(None, _PRINTABLE))


def _utf16_lines(lines: tuple[str, ...]) -> tuple[str, ...] | None:
    """Re-read lines git split at 0x0A bytes as UTF-16 text (LE or BE), if they decode as such."""
    raw = b"\n".join(ln.encode("utf-8", "surrogateescape") for ln in lines)
    best: tuple[int, str] | None = None
    for data, codec in ((raw, "utf-16-be"), (raw[1:] + b"\x00", "utf-16-le"), (raw, "utf-16-le")):
        text = data.decode(codec, errors="replace")
        score = _printable(text)
        if score * 10 >= len(text) * 8 and (best is None or score > best[0]):
            best = (score, text)
    return tuple(best[1].lstrip("\ufeff").split("\n")) if best else None


def _has_nul(lines: tuple[str, ...]) -> bool:
    return any("\x00" in ln for ln in lines)


#: True when the classifier judged a change from its whole blobs (its lines do not matter).
Whole = Callable[[FileChange], bool]
#: Tells the classifier the changes of the commit it is about to judge.
Begin = Callable[[Sequence[FileChange]], None]


@dataclass(frozen=True)
class Hooks:
    """What a classifier offers beyond ``classify`` (``Classifier`` has all three).

    ``locate`` says where rules fired; ``whole`` says a verdict came from whole blobs, so a
    truncated diff hides nothing; ``begin`` is told each commit's changes before they are
    judged, so definitions moved between files are seen.
    """

    locate: Locate | None = None
    whole: Whole | None = None
    begin: Begin | None = None


NO_HOOKS = Hooks()


def _rules(
    change: FileChange,
    classify: Callable[[FileChange], tuple[str, ...]],
    whole: Whole | None = None,
) -> set[str]:
    """Rules for one change, also over a UTF-16 reading of NUL-laden text, plus truncation.

    A truncated diff fires ``diff.truncated`` unless ``whole`` says the classifier judged the
    change from both whole blobs, which no truncation of the diff touches.
    """
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
    if change.truncated and not (whole is not None and whole(change)):
        rules.add(TRUNCATED_RULE)
    return rules


def classify_changes(
    commit: str,
    changes: Iterable[FileChange],
    classify: Callable[[FileChange], tuple[str, ...]],
    hooks: Hooks = NO_HOOKS,
) -> CommitClassification:
    """Classify each change of one commit (a rename is one path with both names).

    With ``hooks.locate``, each path that fired also says where (its ``findings``).
    """
    changes = list(changes)
    if hooks.begin is not None:
        hooks.begin(changes)
    merged: dict[tuple[str, str | None], set[str]] = {}  # a merge may diff a path per parent
    found: dict[tuple[str, str | None], list[Finding]] = {}
    for c in changes:
        rules = _rules(c, classify, hooks.whole)
        merged.setdefault(_key(c), set()).update(rules)
        if rules and hooks.locate is not None:
            found.setdefault(_key(c), []).extend(_located(c, rules, hooks.locate))
    verdicts = [
        PathVerdict(
            path=path,
            old_path=old,
            rules=tuple(sorted(rules)),
            findings=tuple(dict.fromkeys(found.get((path, old), ()))),
        )
        for (path, old), rules in merged.items()
    ]
    return CommitClassification(commit, tuple(verdicts))


def _located(change: FileChange, rules: set[str], locate: Locate) -> tuple[Finding, ...]:
    """Findings for every fired rule; rules the classifier cannot place name the path."""
    findings = locate(change, tuple(sorted(rules)))
    placed = {f.rule for f in findings}
    return findings + tuple(Finding(r, change.path) for r in sorted(rules - placed))


def classify_all(
    changes: Mapping[str, list[FileChange]],
    order: Iterable[str],
    classify: Callable[[FileChange], tuple[str, ...]],
    progress: Callable[[int, int], None] | None = None,
    hooks: Hooks = NO_HOOKS,
) -> list[CommitClassification]:
    """Classify every commit in ``order``, reporting progress every 100 commits."""
    shas = list(order)
    out = []
    for n, sha in enumerate(shas, 1):
        out.append(classify_changes(sha, changes[sha], classify, hooks))
        if progress is not None and (n % 100 == 0 or n == len(shas)):
            progress(n, len(shas))
    return out


#: Rule id added when a merge brings a change to a path where it fires, and no commit of the
#: merged side was judged identity-related at that path (THREATS.md G43).
MERGE_RULE = "merge.first-parent"


def classify_range_changes(
    commits: Sequence[tuple[str, tuple[str, ...]]],
    own: Mapping[str, list[FileChange]],
    brought: Mapping[str, list[FileChange]],
    classify: Callable[[FileChange], tuple[str, ...]],
    progress: Callable[[int, int], None] | None = None,
    hooks: Hooks = NO_HOOKS,
    sources: Sources | None = None,
) -> list[CommitClassification]:
    """Classify a range (``(sha, parents)`` oldest first): own changes, and what merges bring.

    With ``sources``, ``own`` comes without whole blobs and each chunk of commits has them
    attached by ``sources`` where it is judged (on every core when the range forks); the
    changes judged are the same (decision 0021, amendment).

    A merge is judged by its own changes and by its first-parent diff at the paths where the
    changes land. A landed path that fires counts unless a commit of the merged side (in the
    range, reachable from another parent, not from the first) fired at that same path, on a
    change producing the very blob that lands, or on changes holding every changed line of
    it (the content moved with a rename): that commit already needs evidence for the
    content. Otherwise the merge needs its own, with ``merge.first-parent`` naming why.
    """
    index = {sha: i for i, (sha, _) in enumerate(commits)}
    reach: list[int] = []  # per commit: bit set of the range commits it reaches (itself too)
    fired: dict[str, int] = {}  # "path:P" / "blob:OID" -> bit set of commits that fired there
    out = []

    ready = dict(own)  # own changes with their sources, once a chunk's are read

    def judge(i: int) -> CommitClassification:
        return classify_changes(commits[i][0], ready[commits[i][0]], classify, hooks)

    def prepare(lo: int, hi: int) -> None:
        if sources is not None:
            ready.update(sources({sha: own[sha] for sha, _ in commits[lo:hi]}))

    lines = sum(len(c.added) + len(c.removed) for sha, _ in commits for c in own[sha])
    # own changes: on every core if worth it
    verdicts = in_order(judge, len(commits), lines, prepare if sources is not None else None)
    for n, ((sha, parents), verdict) in enumerate(zip(commits, verdicts, strict=True), 1):
        bits = 1 << index[sha]
        for parent in parents:
            if parent in index:
                bits |= reach[index[parent]]
        reach.append(bits)
        if sha in brought and len(parents) > 1:
            side = _side_of(parents, index, reach)
            verdict = _with_brought(verdict, brought[sha], classify, fired, side, hooks)
        for key in _fired_keys(verdict, own[sha]):
            fired[key] = fired.get(key, 0) | (1 << index[sha])
        out.append(verdict)
        if progress is not None and (n % 100 == 0 or n == len(commits)):
            progress(n, len(commits))
    return out


def _key(change: FileChange) -> tuple[str, str | None]:
    return (change.path, change.old_path if change.old_path != change.path else None)


def _fired_keys(verdict: CommitClassification, changes: Iterable[FileChange]) -> set[str]:
    """Paths where ``verdict`` fired, and the blobs its firing changes produced."""
    rules = {(p.path, p.old_path): p.rules for p in verdict.paths}
    keys = {f"path:{path}" for (new, old), r in rules.items() if r for path in (new, old) if path}
    for c in changes:
        if rules.get(_key(c)):
            keys |= {f"blob:{c.new_oid}"} if c.new_oid else set()
            keys |= _line_keys(c)
    return keys


def _line_keys(change: FileChange) -> set[str]:
    """One key per distinct changed line (stripped, non-empty), added or removed."""
    return {f"line:{ln.strip()}" for ln in (*change.added, *change.removed) if ln.strip()}


def _covered(change: FileChange, fired: Mapping[str, int], side: int) -> bool:
    """True when a side commit that fired changed this path, made this blob, or every line."""
    if (fired.get(f"path:{change.path}", 0) | fired.get(f"blob:{change.new_oid}", 0)) & side:
        return True
    lines = _line_keys(change)
    return bool(lines) and all(fired.get(k, 0) & side for k in lines)


def _side_of(parents: tuple[str, ...], index: Mapping[str, int], reach: list[int]) -> int:
    """Range commits reachable from a merge's other parents and not from its first."""
    first = reach[index[parents[0]]] if parents[0] in index else 0
    others = 0
    for parent in parents[1:]:
        if parent in index:
            others |= reach[index[parent]]
    return others & ~first


def _with_brought(
    verdict: CommitClassification,
    brought: list[FileChange],
    classify: Callable[[FileChange], tuple[str, ...]],
    fired: Mapping[str, int],
    side: int,
    hooks: Hooks = NO_HOOKS,
) -> CommitClassification:
    """A merge's verdict plus the landed changes that fire and that no side commit covers."""
    merged: dict[tuple[str, str | None], set[str]] = {
        (p.path, p.old_path): set(p.rules) for p in verdict.paths
    }
    found: dict[tuple[str, str | None], list[Finding]] = {
        (p.path, p.old_path): list(p.findings) for p in verdict.paths
    }
    added = False
    if hooks.begin is not None:
        hooks.begin(brought)
    for change in brought:
        rules = set() if _covered(change, fired, side) else _rules(change, classify, hooks.whole)
        if rules:
            merged.setdefault(_key(change), set()).update(rules | {MERGE_RULE})
            if hooks.locate is not None:
                landed = (
                    *_located(change, rules, hooks.locate),
                    Finding(MERGE_RULE, change.path),
                )
                found.setdefault(_key(change), []).extend(landed)
            added = True
    if not added:
        return verdict
    paths = tuple(
        PathVerdict(path, old, tuple(sorted(r)), tuple(dict.fromkeys(found.get((path, old), ()))))
        for (path, old), r in merged.items()
    )
    return CommitClassification(verdict.commit, paths)
