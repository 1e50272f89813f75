"""Measure the classifier on labeled commits of real applications (``classifier-eval --real``).

The data set (``../shared/data/identity-commits``) holds, per repository, a git bundle with one
branch ``t/<first 12 hex of sha>`` per labeled commit (the parent's version of the touched
files, then the commit) and ``<repo>.labels.jsonl`` (sha, identity, category, confidence, why).
Each commit is classified exactly as the gate would classify the range ``t/ID^..t/ID`` (its
policy: none, so the built-in rules), and is identity-related when any path fired a rule.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provenance.app.gate import classify_range
from provenance.classify.evaluate import Scores
from provenance.gitio.runner import clone_mirror

#: ``../shared/data/identity-commits`` beside the clone.
DEFAULT_REAL_SET = Path(__file__).resolve().parents[2].parent / "shared/data/identity-commits"


@dataclass(frozen=True)
class Labeled:
    """One labeled real commit and what the classifier said about it."""

    repo: str
    sha: str
    identity: bool
    category: str
    why: str
    #: path -> rule ids that fired (only paths that fired)
    fired: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """True when the classifier called the commit identity-related."""
        return bool(self.fired)

    @property
    def rules(self) -> tuple[str, ...]:
        """Sorted union of the rules that fired."""
        return tuple(sorted({r for rules in self.fired.values() for r in rules}))


def confusion(items: Iterable[Labeled]) -> Scores:
    """Confusion counts (and the ratios) over ``items``."""
    c: Counter[tuple[bool, bool]] = Counter((i.identity, i.flagged) for i in items)
    return Scores(tp=c[True, True], fp=c[False, True], fn=c[True, False], tn=c[False, False])


def repositories(directory: Path) -> list[str]:
    """Names of the repositories of the set (``owner+name``), sorted."""
    return sorted(p.name.removesuffix(".labels.jsonl") for p in directory.glob("*.labels.jsonl"))


def _labels(directory: Path, repo: str) -> list[dict[str, object]]:
    lines = (directory / f"{repo}.labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def evaluate_repository(directory: Path, repo: str) -> list[Labeled]:
    """Clone the repository's bundle and classify each labeled commit's own range."""
    out = []
    with tempfile.TemporaryDirectory(prefix="provenance-eval-") as tmp:
        mirror = Path(tmp) / "repo.git"
        clone_mirror(directory / f"{repo}.bundle", mirror)
        for label in _labels(directory, repo):
            sha = str(label["sha"])
            branch = f"refs/heads/t/{sha[:12]}"
            result = classify_range(mirror, f"{branch}^..{branch}")
            fired = {p.path: p.rules for c in result.commits for p in c.paths if p.rules}
            out.append(
                Labeled(
                    repo=repo,
                    sha=sha,
                    identity=bool(label["identity"]),
                    category=str(label["category"]),
                    why=str(label.get("why", "")),
                    fired=fired,
                )
            )
    return out


def evaluate(directory: Path = DEFAULT_REAL_SET, repos: Sequence[str] = ()) -> list[Labeled]:
    """Every labeled commit of the chosen repositories (all of them by default)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: the labeled real commits are not there")
    chosen = list(repos) or repositories(directory)
    return [item for repo in chosen for item in evaluate_repository(directory, repo)]


def _row(name: str, c: Scores) -> str:
    return (
        f"{name:<28} {c.tp + c.fp + c.fn + c.tn:>5} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.tn:>4}"
        f"  {c.recall:>6.2f}  {c.precision:>9.2f}"
    )


def render(items: Sequence[Labeled]) -> str:
    """Tables per repository and per category, rules behind false flags, every error."""
    head = f"{'':<28} {'n':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}  recall  precision"
    lines = ["per repository", head]
    for repo in dict.fromkeys(i.repo for i in items):
        lines.append(_row(repo, confusion(i for i in items if i.repo == repo)))
    lines.append(_row("all", confusion(items)))
    lines += ["", "per category (label)", head]
    for cat in sorted({i.category for i in items}):
        lines.append(_row(cat, confusion(i for i in items if i.category == cat)))
    false = [i for i in items if i.flagged and not i.identity]
    by_rule: Counter[str] = Counter(r for i in false for r in i.rules)
    lines += ["", "rules behind false flags (commits)"]
    lines += [f"  {n:>3} {rule}" for rule, n in by_rule.most_common()]
    misses = [i for i in items if i.identity and not i.flagged]
    lines += ["", f"misses: {len(misses)}"]
    lines += [f"  FN {i.repo} {i.sha[:12]} [{i.category}] {i.why}" for i in misses]
    lines += ["", f"false flags: {len(false)}"]
    for i in false:
        lines.append(f"  FP {i.repo} {i.sha[:12]} {i.why}")
        lines += [f"       {path}: {', '.join(rules)}" for path, rules in sorted(i.fired.items())]
    return "\n".join(lines) + "\n"
