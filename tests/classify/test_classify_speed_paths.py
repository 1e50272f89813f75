"""The fast paths of classification answer exactly what the plain paths answer (decision 0021).

On a real application's history (the last first-parent steps of the shared Lobsters bundle,
merges included): a range judged in forked workers, and one judged with every text cache
turned off, give the verdicts, findings and rules of the serial run with caches, commit
for commit; and ``is_check`` read line by line agrees with reading each whole source at once.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from tree_sitter import Node

from provenance.app.gate import classify_range
from provenance.classify import _guard, _parallel, _v2_outbound
from provenance.classify._branches import alternatives
from provenance.classify._content import builtin_rules, render
from provenance.classify._memo import LineFlags, SizedLRU
from provenance.classify._normalize import words_view
from provenance.classify._rules_evasion import RUNS_CODE, runs_code_branches
from provenance.classify._v2_outbound_words import WORDY
from provenance.classify.classified import CommitClassification, classify_range_changes
from provenance.classify.syntax import parse
from provenance.gitio.walk import RangeChanges, read_range
from provenance.models import FileChange

HISTORY = Path(__file__).resolve().parents[2].parent / "shared/data/lobsters-history.bundle"
STEPS = 60


@pytest.fixture(scope="module")
def lobsters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A mirror of the shared Lobsters history and the range of its last ``STEPS`` steps."""
    if not HISTORY.exists():
        pytest.fail(f"{HISTORY} is missing: the shared data set must be beside the clone")
    repo = tmp_path_factory.mktemp("lobsters") / "repo.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(HISTORY), str(repo)], check=True)
    chain = subprocess.run(
        ["git", "-C", str(repo), "rev-list", "--first-parent", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return repo, f"{chain[STEPS]}..{chain[0]}"


def _serial(
    lobsters: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> list[CommitClassification]:
    """The range's verdicts judged in this process, with every cache."""
    monkeypatch.setenv("PROVENANCE_JOBS", "1")
    verdicts = classify_range(*lobsters).commits
    assert any(c.identity_related for c in verdicts)  # the range exercises the rules
    assert any(c.findings for c in verdicts)
    return verdicts


def test_forked_workers_judge_a_real_range_as_the_serial_loop_does(
    lobsters: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G43: merges (judged with what they bring) and their side commits alike."""
    serial = _serial(lobsters, monkeypatch)
    monkeypatch.setenv("PROVENANCE_JOBS", "2")
    monkeypatch.setattr(_parallel, "MIN_ITEMS", 2)
    assert classify_range(*lobsters).commits == serial


def test_text_caches_change_no_verdict_on_a_real_range(
    lobsters: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G45: guard-flow's remembered facts are the facts it would compute."""
    cached = _serial(lobsters, monkeypatch)
    monkeypatch.setattr(SizedLRU, "get", lambda self, key, compute: compute())
    monkeypatch.setattr(LineFlags, "any", lambda self, lines: any(map(self._test, lines)))
    assert classify_range(*lobsters).commits == cached


def _whole_text_is_check(text: str, guards: _guard.Matcher) -> bool:
    """``is_check`` as it read before decision 0021: whole texts at once."""
    if _guard._DENIAL.search(words_view(text)) or bool(guards(text) & _guard.GUARD_RULES):
        return True
    return any(
        _guard._CONDITION.search(line) and _guard._WHO.search(words_view(line))
        for line in text.splitlines()
    )


@pytest.fixture(scope="module")
def sources(lobsters: tuple[Path, str]) -> tuple[str, ...]:
    """Every Ruby, JavaScript and ERB blob of the range's last commit (read once per module;
    a tuple of strings, so no test can change what the next one reads)."""
    repo = lobsters[0]
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "HEAD"], check=True, capture_output=True
    ).stdout.decode()
    blobs = [ln.split()[2] for ln in listing.splitlines() if re.search(r"\.(rb|js|erb)$", ln)]
    assert len(blobs) > 100
    return tuple(
        subprocess.run(
            ["git", "-C", str(repo), "cat-file", "blob", oid], check=True, capture_output=True
        ).stdout.decode("utf-8", "surrogateescape")
        for oid in blobs
    )


def test_is_check_line_by_line_agrees_with_whole_texts(sources: tuple[str, ...]) -> None:
    """THREATS.md G45: on real sources, as written and with other line breaks."""
    nothing: _guard.Matcher = lambda text: set()  # noqa: E731 -- the decision rules aside
    answers = []
    for text in sources:
        # with a CRLF and a form feed: line breaks other than \n split differently
        for variant in (text, text.replace("\n", "\r\n", 3), text.replace("\n", "\x0c", 5)):
            answers.append(_guard.is_check(variant, nothing))
            assert answers[-1] == _whole_text_is_check(variant, nothing)
    assert True in answers and False in answers


@pytest.mark.parametrize("ruleset_id", ["builtin:identity@1", "builtin:identity@2"])
def test_rules_asked_by_alternative_answer_as_their_whole_regex(
    sources: tuple[str, ...], ruleset_id: str
) -> None:
    """Every built-in content rule split into alternatives matches where, and only where, its
    whole regex does: on real sources, one by one and all at once, in each rule's view."""
    texts = list(sources[::4])
    texts.append("\n".join(texts))
    rules = [b for b in builtin_rules(ruleset_id) if alternatives(b.rule.pattern)]
    assert len(rules) > 10
    views: dict[str, list[str]] = {}  # each text rendered once per view, for every rule
    answers = set()
    for b in rules:
        assert "|".join(alternatives(b.rule.pattern) or ()) == b.rule.pattern
        if b.view not in views:
            views[b.view] = [render(text, b.view) for text in texts]
        for seen in views[b.view]:
            matched = b.matches(seen)
            answers.add(matched)
            assert matched == (b.regex.search(seen) is not None), b.rule.id
    assert answers == {True, False}


def test_alternatives_split_only_at_the_top_level() -> None:
    assert alternatives(r"a(b|c)|[|\]]x|\|y") == ["a(b|c)", r"[|\]]x", r"\|y"]
    assert alternatives(r"[]|]|z") == ["[]|]", "z"]
    assert alternatives(r"(a)|\1") is None  # a backreference ties the alternatives
    assert alternatives("abc") is None


def _wordy(node: Node) -> bool:
    return WORDY.search(node.type) is not None


def _every_leaf_by_row(root: Node) -> dict[int, set[tuple[int, int]]]:
    """The named wordy leaves lying wholly on one row, by row, looking at every node."""
    found: dict[int, set[tuple[int, int]]] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        row = node.start_point[0]
        if node.child_count:
            stack.extend(node.children)
        elif node.is_named and row == node.end_point[0] and _wordy(node):
            found.setdefault(row, set()).add((node.start_byte, node.end_byte))
    return found


def test_leaves_of_judged_rows_are_found_in_one_descent_as_by_a_whole_walk(
    sources: tuple[str, ...],
) -> None:
    """The outbound stage reads each judged line's leaves: one descent for all of a side's
    judged rows (every row, every third row, a few scattered rows, rows past the end) finds
    on each row what looking at every node of the tree finds."""
    ruby = [(t, "ruby") for t in sources[:60]]
    here = Path(_v2_outbound.__file__).parent
    python = [(p.read_text(), "python") for p in sorted(here.glob("*.py"))]
    checked = 0
    for text, language in ruby + python:
        root = parse(text.encode("utf-8", "surrogateescape"), language).root_node
        if root.has_error:  # the stage reads only trees that parsed cleanly
            continue
        every, expected = range(root.end_point[0] + 2), _every_leaf_by_row(root)
        for rows in (every, every[::3], every[1::7], [0, len(every) // 2, len(every) + 5]):
            got = _v2_outbound.leaves_by_row(root, rows)
            assert set(got) <= set(rows)
            for row in rows:
                found = {(n.start_byte, n.end_byte) for n in got.get(row, ())}
                assert found == expected.get(row, set()), (language, row)
                assert len(got.get(row, ())) == len(found)  # no leaf twice
                checked += bool(found)
    assert checked > 1000


def test_code_that_runs_code_is_found_by_alternative_as_by_its_whole_regex(
    sources: tuple[str, ...],
) -> None:
    """THREATS.md G49: ``code.dynamic-exec`` asks each language's pattern alternative by
    alternative; on real sources (the range's Ruby, JavaScript and ERB, this package's
    Python), file by file and line by line, every kind's answer is its whole regex's."""
    python = sorted(Path(_v2_outbound.__file__).parent.glob("*.py"))
    texts = list(sources[::2]) + [p.read_text() for p in python]
    answers: dict[str, set[bool]] = {}
    for kind, pattern in RUNS_CODE.items():
        whole = re.compile(pattern, re.MULTILINE)
        for text in texts:
            for piece in (text, *text.splitlines()[::7]):
                got = runs_code_branches(kind).search(piece)
                assert got == (whole.search(piece) is not None), (kind, piece[:200])
                answers.setdefault(kind, set()).add(got)
    assert answers["ruby"] == answers["python"] == {True, False}  # matches and misses checked


def test_sources_read_per_chunk_in_workers_give_the_verdicts_of_sources_read_first(
    lobsters: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G45: the gate reads each chunk's whole blobs in the worker that judges it;
    on a real range (forked, chunks of a few commits) every verdict is the one reached with
    every source read before judging starts, as before."""
    monkeypatch.setenv("PROVENANCE_JOBS", "2")
    monkeypatch.setattr(_parallel, "MIN_ITEMS", 2)
    per_chunk = classify_range(*lobsters).commits
    seen: list[FileChange] = []

    def read_first(*args: Any, **kwargs: Any) -> RangeChanges:
        changes: RangeChanges = read_range(*args, **{**kwargs, "own_sources": True})
        seen.extend(c for cs in changes.own.values() for c in cs if c.new_source is not None)
        return changes

    def judge_as_read(*args: Any) -> list[CommitClassification]:
        return classify_range_changes(
            *args[:6]
        )  # without ``sources``: the changes come with theirs

    monkeypatch.setattr("provenance.app.gate.read_range", read_first)
    monkeypatch.setattr("provenance.app.gate.classify_range_changes", judge_as_read)
    first = classify_range(*lobsters).commits
    assert seen and any(c.identity_related for c in first)
    assert per_chunk == first
