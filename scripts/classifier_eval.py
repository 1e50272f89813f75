"""Measure the identity classifier: labeled fixtures, and labeled commits of real applications.

Used by ``scripts/classifier-eval`` and (imported by path) by the tests. Not part of the
package: it is a developer's instrument, and the real set lives beside the clone.

Fixtures (``tests/classify/fixtures_classify``): one labeled change each; a case is held out
when ``int(sha256(id), 16) % 10 < 3``, so the split cannot be chosen case by case.

Real commits (``../shared/data/identity-commits``): per repository a git bundle with one branch
``t/<first 12 hex of sha>`` per labeled commit (the parent's version of the touched files, then
the commit) and ``<repo>.labels.jsonl`` (sha, identity, category, confidence, why). Each commit
is classified exactly as the gate classifies the range ``t/ID^..t/ID`` with no policy (the
built-in ruleset asked for), and is identity-related when any path fired a rule.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from provenance.classify import Classifier
from provenance.classify._v2_classifier import STAGES, ClassifierV2
from provenance.classify.classified import Finding, classify_changes, classify_range_changes
from provenance.gitio.runner import Git, clone_mirror
from provenance.gitio.walk import read_range, walk_range
from provenance.models import FileChange

ROOT = Path(__file__).resolve().parents[1]
SPLITS = ("tune", "heldout")
DEFAULT_FIXTURES = ROOT / "tests/classify/fixtures_classify"
#: ``../shared/data/identity-commits`` beside the clone.
DEFAULT_REAL_SET = ROOT.parent / "shared/data/identity-commits"
DEFAULT_RULESET = "builtin:identity"


# --- scores --------------------------------------------------------------------------------


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


def scores_of(pairs: Iterable[tuple[bool, bool]]) -> Scores:
    """Confusion counts over (label, predicted) pairs."""
    c: Counter[tuple[bool, bool]] = Counter(pairs)
    return Scores(tp=c[True, True], fp=c[False, True], fn=c[True, False], tn=c[False, False])


# --- fixtures ------------------------------------------------------------------------------


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
        hunks=tuple(tuple(h) for h in obj.get("hunks", ())),  # type: ignore[misc]
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
    return scores_of((o.case.label, bool(o.fired)) for o in outcomes)


def render_fixtures(outcomes: Sequence[Outcome], splits: Sequence[str]) -> str:
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


def benchmark(cases: Sequence[Case], ruleset: str, commits: int = 2000, per_commit: int = 6) -> str:
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
    classifier = Classifier.build(rulesets=[ruleset])
    built = time.perf_counter()
    fired = sum(1 for ch in changes if classifier.classify(ch))
    done = time.perf_counter()
    return (
        f"build {built - start:.3f}s; classify {len(changes)} changes "
        f"({commits} commits) in {done - built:.3f}s; {fired} identity-related\n"
    )


def run_fixtures(
    fixtures: Path = DEFAULT_FIXTURES,
    split: str = "all",
    bench: bool = False,
    ruleset: str = DEFAULT_RULESET,
) -> str:
    """The fixture report: scores, misclassified cases, timing."""
    cases = load_cases(fixtures)
    splits = SPLITS if split == "all" else (split,)
    if not set(splits) <= set(SPLITS):
        raise ValueError(f"unknown split {split!r}; use one of {(*SPLITS, 'all')}")
    outcomes = run_cases(Classifier.build(rulesets=[ruleset]), cases)
    text = f"ruleset {ruleset}\n" + render_fixtures(outcomes, splits)
    return text + benchmark(cases, ruleset) if bench else text


# --- real commits --------------------------------------------------------------------------


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
    #: where the rules fired (the explanation a reviewer sees)
    findings: tuple[Finding, ...] = ()

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
    return scores_of((i.identity, i.flagged) for i in items)


def repositories(directory: Path) -> list[str]:
    """Names of the repositories of the set (``owner+name``), sorted."""
    return sorted(p.name.removesuffix(".labels.jsonl") for p in directory.glob("*.labels.jsonl"))


def _labels(directory: Path, repo: str) -> list[dict[str, Any]]:
    lines = (directory / f"{repo}.labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _branch_heads(git: Git) -> dict[str, str]:
    """Every ``t/...`` branch's commit id, read with one ``for-each-ref``.

    The range is then walked from full ids: resolving each branch name as a user's revision
    costs a dozen git processes (every ambiguity check), a third of the evaluation's time.
    """
    out = git.out("for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/t/")
    heads = {}
    for line in out.decode().splitlines():
        sha, ref = line.split(" ", 1)
        heads[ref] = sha
    return heads


def evaluate_repository(directory: Path, repo: str, classifier: Classifier) -> list[Labeled]:
    """Clone the repository's bundle and classify each labeled commit's own range."""
    out = []
    with tempfile.TemporaryDirectory(prefix="provenance-eval-") as tmp:
        git = clone_mirror(directory / f"{repo}.bundle", Path(tmp) / "repo.git")
        heads = _branch_heads(git)
        for label in _labels(directory, repo):
            sha = str(label["sha"])
            branch = heads.get(f"refs/heads/t/{sha[:12]}")
            if branch is None:
                raise ValueError(f"{repo}.bundle has no branch t/{sha[:12]} for labeled {sha}")
            base, head, commits = walk_range(git, f"{branch}^", branch)
            seen = read_range(git, commits, ends=(base, head), want=classifier.wants_source)
            verdicts = classify_range_changes(
                [(c.sha, c.parents) for c in commits],
                seen.own,
                seen.brought,
                classifier.classify,
                hooks=classifier.hooks,
            )
            fired = {p.path: p.rules for v in verdicts for p in v.paths if p.rules}
            findings = tuple(f for v in verdicts for p in v.paths for f in p.findings)
            out.append(
                Labeled(
                    repo=repo,
                    sha=sha,
                    identity=bool(label["identity"]),
                    category=str(label["category"]),
                    why=str(label.get("why", "")),
                    fired=fired,
                    findings=findings,
                )
            )
    return out


def evaluate(
    directory: Path = DEFAULT_REAL_SET,
    repos: Sequence[str] = (),
    ruleset: str = DEFAULT_RULESET,
) -> list[Labeled]:
    """Every labeled commit of the chosen repositories (all of them by default)."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: the labeled real commits are not there")
    classifier = Classifier.build(rulesets=[ruleset])
    chosen = list(repos) or repositories(directory)
    return [item for repo in chosen for item in evaluate_repository(directory, repo, classifier)]


def _row(name: str, c: Scores) -> str:
    return (
        f"{name:<28} {c.tp + c.fp + c.fn + c.tn:>5} {c.tp:>4} {c.fp:>4} {c.fn:>4} {c.tn:>4}"
        f"  {c.recall:>6.2f}  {c.precision:>9.2f}"
    )


def _where(f: Finding) -> str:
    if not f.first:
        return f"{f.path} ({f.rule})"
    span = f"{f.first}" if f.last == f.first else f"{f.first}-{f.last}"
    side = "" if f.side == "new" else " (removed)"
    return f"{f.path}:{span}{side} ({f.rule})"


def render_real(items: Sequence[Labeled], ruleset: str = DEFAULT_RULESET) -> str:
    """Tables per repository and per category, rules behind false flags, every error."""
    head = f"{'':<28} {'n':>5} {'tp':>4} {'fp':>4} {'fn':>4} {'tn':>4}  recall  precision"
    lines = [f"ruleset {ruleset}", "", "per repository", head]
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
        lines += [f"       at {_where(f)}" for f in i.findings[:6]]
    return "\n".join(lines) + "\n"


# --- leave one repository out ----------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """A labeled real commit with every change read, all sources attached (judged in memory)."""

    repo: str
    sha: str
    identity: bool
    changes: tuple[FileChange, ...]


def load_real(directory: Path = DEFAULT_REAL_SET) -> list[Loaded]:
    """Every labeled commit's changes with their sources, read once for many classifiers."""
    out = []
    for repo in repositories(directory):
        with tempfile.TemporaryDirectory(prefix="provenance-eval-") as tmp:
            git = clone_mirror(directory / f"{repo}.bundle", Path(tmp) / "repo.git")
            for label in _labels(directory, repo):
                sha = str(label["sha"])
                branch = f"refs/heads/t/{sha[:12]}"
                base, head, commits = walk_range(git, f"{branch}^", branch)
                seen = read_range(git, commits, ends=(base, head), want=lambda _: True)
                changes = tuple(c for v in seen.own.values() for c in v)
                out.append(Loaded(repo, sha, bool(label["identity"]), changes))
    return out


def judged(classifier: Classifier, items: Sequence[Loaded]) -> Scores:
    """Scores of ``classifier`` on loaded commits, sources given only where it wants them."""
    pairs = []
    for item in items:
        changes = [
            c if classifier.wants_source(c) else replace(c, old_source=None, new_source=None)
            for c in item.changes
        ]
        verdict = classify_changes(item.sha, changes, classifier.classify, classifier.hooks)
        pairs.append((item.identity, verdict.identity_related))
    return scores_of(pairs)


def _stage_classifier(off: Iterable[str]) -> Classifier:
    clf = Classifier.build(rulesets=["builtin:identity@2"])
    assert isinstance(clf, ClassifierV2)
    return clf.ablated(off)


def _select(train: Sequence[Loaded]) -> tuple[frozenset[str], Scores]:
    """Stages to keep, by backward elimination on ``train``: drop the stage whose removal
    raises F1 most, while one does."""
    off: frozenset[str] = frozenset()
    best = judged(_stage_classifier(off), train)
    while True:
        trials = {
            stage: judged(_stage_classifier(off | {stage}), train)
            for stage in STAGES
            if stage not in off
        }
        stage, scores = max(trials.items(), key=lambda kv: (kv[1].f1, kv[0]))
        if scores.f1 <= best.f1:
            return off, best
        off, best = off | {stage}, scores


def _cell(s: Scores) -> str:
    return f"{s.recall:4.2f}/{s.precision:4.2f}"


def leave_one_out(items: Sequence[Loaded]) -> str:
    """Per held-out repository: stages chosen on the others, and recall/precision there."""
    repos = sorted({i.repo for i in items})
    lines = [
        "leave one repository out: stages of @2 chosen by F1 on the other three repositories",
        f"{'held out':<28} {'@1':>9} {'@2 all':>9} {'@2 chosen':>9}  tuned on (all @2 -> chosen)"
        "  stages dropped",
    ]
    v1 = Classifier.build(rulesets=["builtin:identity@1"])
    for held in repos:
        train = [i for i in items if i.repo != held]
        test = [i for i in items if i.repo == held]
        off, tuned = _select(train)
        everything = judged(_stage_classifier(()), test)
        chosen = judged(_stage_classifier(off), test)
        train_all = judged(_stage_classifier(()), train)
        lines.append(
            f"{held:<28} {_cell(judged(v1, test)):>9} {_cell(everything):>9} {_cell(chosen):>9}"
            f"  {_cell(train_all)} -> {_cell(tuned)}  {', '.join(sorted(off)) or '-'}"
        )
    lines.append("(cells are recall/precision)")
    return "\n".join(lines) + "\n"


def ablation(items: Sequence[Loaded]) -> str:
    """Each stage of @2 switched off alone, on all 300 commits: what it contributes."""
    lines = ["each stage switched off alone (all 300):", f"{'':<16} recall/precision  fp  fn"]
    for stage in ("-", *STAGES):
        s = judged(_stage_classifier(() if stage == "-" else (stage,)), items)
        name = "(none off)" if stage == "-" else stage
        lines.append(f"{name:<16} {_cell(s):>16} {s.fp:>3} {s.fn:>3}")
    return "\n".join(lines) + "\n"


# --- command line --------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``scripts/classifier-eval``: see ``--help``."""
    parser = argparse.ArgumentParser(
        prog="classifier-eval",
        description="Precision and recall of the identity classifier on labeled data.",
    )
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--split", choices=(*SPLITS, "all"), default="all")
    parser.add_argument("--bench", action="store_true", help="also time 2,000 synthetic commits")
    parser.add_argument("--real", action="store_true", help="labeled commits of real applications")
    parser.add_argument("--data", type=Path, default=None, help="directory of the real set")
    parser.add_argument("--repo", action="append", default=[], help="only this repository")
    parser.add_argument(
        "--leave-one-out",
        action="store_true",
        help="with --real: choose @2's stages on three repositories, measure on the fourth",
    )
    parser.add_argument(
        "--ruleset",
        default=DEFAULT_RULESET,
        help="builtin:identity (the newest), builtin:identity@1 or builtin:identity@2",
    )
    args = parser.parse_args(argv)
    if args.real and args.leave_one_out:
        loaded = load_real(args.data or DEFAULT_REAL_SET)
        sys.stdout.write(ablation(loaded) + "\n" + leave_one_out(loaded))
    elif args.real:
        items = evaluate(args.data or DEFAULT_REAL_SET, args.repo, args.ruleset)
        sys.stdout.write(render_real(items, args.ruleset))
    else:
        sys.stdout.write(run_fixtures(args.fixtures, args.split, args.bench, args.ruleset))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
