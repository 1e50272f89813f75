"""Measure the classifier against labeled fixtures: precision, recall, F1 per split.

Used by ``scripts/classifier-eval`` and by the tests. A case is held out when
``int(sha256(id), 16) % 10 < 3``, so the split cannot be chosen case by case.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from provenance.models import FileChange

from .classifier import Classifier

SPLITS = ("tune", "heldout")
DEFAULT_FIXTURES = Path("tests/classify/fixtures_classify")


@dataclass(frozen=True)
class Case:
    """One labeled change."""

    id: str
    change: FileChange
    label: bool
    note: str

    @property
    def split(self) -> str:
        """``heldout`` for about 30% of ids (by hash), else ``tune``."""
        return split_of(self.id)


def split_of(case_id: str) -> str:
    """Deterministic split of a case id."""
    return "heldout" if int(hashlib.sha256(case_id.encode()).hexdigest(), 16) % 10 < 3 else "tune"


def case_from_json(obj: dict[str, Any]) -> Case:
    """Build a case from one fixture object (see the fixtures README for the keys)."""
    path = obj["path"]
    change = FileChange(
        path=path,
        old_path=obj.get("old_path", path),
        status=obj.get("status", "M"),
        old_mode=obj.get("old_mode", "100644"),
        new_mode=obj.get("new_mode", "100644"),
        added=tuple(obj.get("added", ())),
        removed=tuple(obj.get("removed", ())),
        binary=bool(obj.get("binary", False)),
        symlink_targets=tuple(obj.get("symlink_targets", ())),
        old_source=obj.get("old_source"),
        new_source=obj.get("new_source"),
    )
    return Case(obj["id"], change, bool(obj["label"]), obj.get("note", ""))


def load_cases(directory: Path = DEFAULT_FIXTURES) -> list[Case]:
    """All cases from the ``*.json`` files of ``directory``; ids must be unique."""
    cases = [
        case_from_json(obj)
        for file in sorted(directory.glob("*.json"))
        for obj in json.loads(file.read_text(encoding="utf-8"))
    ]
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate fixture ids")
    return cases


@dataclass(frozen=True)
class Scores:
    """Confusion counts and the usual ratios (1.0 when a ratio has nothing to count)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        """TP / (TP + FP)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN)."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Outcome:
    """A case with the rule ids the classifier fired for it."""

    case: Case
    fired: tuple[str, ...]

    @property
    def correct(self) -> bool:
        """True when the verdict (any rule fired) matches the label."""
        return bool(self.fired) == self.case.label


def run_cases(classifier: Classifier, cases: Iterable[Case]) -> list[Outcome]:
    """Classify every case."""
    return [Outcome(c, classifier.classify(c.change)) for c in cases]


def score(outcomes: Iterable[Outcome]) -> Scores:
    """Confusion counts over outcomes."""
    s = Scores()
    for o in outcomes:
        predicted = bool(o.fired)
        if predicted and o.case.label:
            s = replace(s, tp=s.tp + 1)
        elif predicted:
            s = replace(s, fp=s.fp + 1)
        elif o.case.label:
            s = replace(s, fn=s.fn + 1)
        else:
            s = replace(s, tn=s.tn + 1)
    return s


def render(outcomes: Sequence[Outcome], splits: Sequence[str]) -> str:
    """A table of scores per split, then the misclassified cases of those splits."""
    lines = ["split      cases   tp   fp   fn   tn  precision  recall     f1"]
    for name in (*splits, "all") if len(splits) > 1 else splits:
        chosen = [o for o in outcomes if name == "all" or o.case.split == name]
        s = score(chosen)
        lines.append(
            f"{name:<9} {len(chosen):>6} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.tn:>4}"
            f"  {s.precision:>9.3f}  {s.recall:>6.3f}  {s.f1:>5.3f}"
        )
    wrong = [o for o in outcomes if o.case.split in splits and not o.correct]
    lines.append(f"\nmisclassified ({', '.join(splits)}): {len(wrong)}")
    for o in sorted(wrong, key=lambda o: (o.case.label, o.case.id)):
        kind = "FN" if o.case.label else "FP"
        fired = ",".join(o.fired) or "-"
        lines.append(f"  {kind} {o.case.id:<36} {o.case.change.path!r}  [{fired}]  {o.case.note}")
    return "\n".join(lines) + "\n"


def benchmark(cases: Sequence[Case], commits: int = 2000, per_commit: int = 6) -> str:
    """Time a fresh classifier over synthetic commits drawn from the fixtures.

    Paths get one of a few hundred directory prefixes, so caches see a repository-sized set
    of distinct paths rather than the same few hundred.
    """
    rng = random.Random(0)  # noqa: S311 -- reproducible sampling, not security
    changes = []
    for _ in range(commits * per_commit):
        c = rng.choice(cases).change
        prefix = f"pkg{rng.randrange(300)}/"
        changes.append(replace(c, path=prefix + c.path, old_path=prefix + c.old_path))
    re.purge()  # measure a cold build, not one served from re's compile cache
    start = time.perf_counter()
    classifier = Classifier.build()
    built = time.perf_counter()
    fired = sum(1 for ch in changes if classifier.classify(ch))
    done = time.perf_counter()
    return (
        f"build {built - start:.3f}s; classify {len(changes)} changes "
        f"({commits} commits) in {done - built:.3f}s; {fired} identity-related\n"
    )


def run(fixtures: Path = DEFAULT_FIXTURES, split: str = "all", bench: bool = False) -> str:
    """The report ``scripts/classifier-eval`` prints: scores, misclassified cases, timing."""
    cases = load_cases(fixtures)
    splits = SPLITS if split == "all" else (split,)
    if not set(splits) <= set(SPLITS):
        raise ValueError(f"unknown split {split!r}; use one of {(*SPLITS, 'all')}")
    text = render(run_cases(Classifier.build(), cases), splits)
    return text + benchmark(cases) if bench else text
