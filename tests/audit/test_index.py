"""The index holds only verified facts, answers the auditor's questions, and stays current.

Every test runs on both backends (SQLite and PostgreSQL): the same questions, the same answers.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.app.audit import IndexStats, blame, build_index, log, query
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.audit import Index, IndexUrl, Query, parse_when
from provenance.audit.render import render_blame, render_hits, render_log
from provenance.errors import ProvenanceError, UsageError
from tests.audit.conftest import BACKENDS, World, clone_world, new_index, policy_text
from tests.conftest import AGENT_ID, session
from tests.helpers import GitRepo
from tests.verify._support import network_restored
from tests.verify.test_keyed import KEY_PATH, _public_pem, make_keyed


@dataclass(frozen=True)
class Indexed:
    """The world indexed once per backend."""

    stats: IndexStats
    db: IndexUrl


@pytest.fixture(scope="module", params=BACKENDS)
def indexed(
    world: World, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Indexed:
    db = new_index(request.param, tmp_path_factory.mktemp("indexed"), request)
    return Indexed(build_index(world.repo.path, world.options(), db=db), db)


def _sql(db: IndexUrl, statement: str) -> list[Any]:
    """Rows of a raw SQL read of the index (the same text on both backends)."""
    from sqlalchemy import text

    with Index.open(db, create=False) as index, index.reading() as conn:
        return [tuple(r) for r in conn.execute(text(statement))]


def test_only_lines_that_verify_are_indexed(world: World, indexed: Indexed) -> None:
    stats = indexed.stats
    assert stats.rebuilt and stats.db == indexed.db.shown()
    assert (stats.new_lines, stats.indexed, stats.refused) == (5, 3, 2)
    assert stats.totals == {"attestations": 3, "refused_lines": 2, "commits": 2}
    assert stats.trust_root_digest and stats.trust_root_digest.startswith("sha256:")
    refused = sorted(r for (r,) in _sql(indexed.db, "SELECT reasons FROM lines WHERE NOT ok"))
    kinds = sorted(k for (k,) in _sql(indexed.db, "SELECT kind FROM attestations"))
    signers = {s for (s,) in _sql(indexed.db, "SELECT signer FROM attestations")}
    (row, *_) = _sql(
        indexed.db,
        "SELECT trust_root_digest, policy_digest, verified_at, signed_time FROM attestations",
    )
    assert refused == ["malformed", "signer_not_allowed"]
    assert kinds == ["approval", "change", "change"]
    assert "mallory@example.com" not in signers
    assert row[0] == stats.trust_root_digest and row[1].startswith("sha256:")
    assert row[2] and row[3]


def test_queries_answer_from_what_was_stamped(world: World, indexed: Indexed) -> None:
    sso, scim = world.sso, world.scim

    def _commits(world: World, **filters: object) -> set[str]:
        return _commits_of(world, indexed, **filters)

    assert _commits(world) == {sso, scim}
    assert _commits(world, agent="claude-code") == {sso}
    assert _commits(world, agent="codex@0.9") == {scim}
    assert _commits(world, agent="codex@1.0") == set()
    assert _commits(world, model="gpt-5") == {scim}
    assert _commits(world, model="GPT-5") == {scim}  # identities compare case-insensitively
    assert _commits(world, prompter="alice@example.com") == {sso}
    assert _commits(world, prompter="mallory@example.com") == set()  # never verified
    assert _commits(world, skill="sso-skill") == {sso}
    assert _commits(world, skill=f"sha256:{world.skill_digest}") == {sso}
    assert _commits(world, skill="scim-kit@1.2.0") == {scim}
    assert _commits(world, skill="scim-kit@9") == set()
    assert _commits(world, approver="bob") == {sso}
    assert _commits(world, approver="bob@example.com") == {sso}
    assert _commits(world, approver="carol") == set()
    assert _commits(world, path="app/auth/**") == {sso}
    assert _commits(world, path="*.py") == {sso, scim}
    assert _commits(world, path="users.py") == {scim}
    assert _commits(world, path="docs/**") == set()
    assert _commits(world, rule="code.lifecycle") == {scim}
    assert _commits(world, path="app/scim/*", rule="code.lifecycle") == {scim}
    assert _commits(world, path="app/auth/*", rule="code.lifecycle") == set()  # rule on that path
    now = datetime.now(UTC)
    assert _commits(world, since=now - timedelta(hours=1), until=now + timedelta(hours=1)) == {
        sso,
        scim,
    }
    assert _commits(world, until=now - timedelta(days=1)) == set()
    assert _commits(world, model="gpt-5", approver="bob") == set()  # filters combine with AND
    assert len(_commits(world, limit=1)) == 1


def test_a_hit_carries_the_verified_facts(world: World, indexed: Indexed) -> None:
    (hit,) = query(world.repo.path, Query(agent="claude-code"), db=indexed.db).items
    assert (hit.agent, hit.agent_version, hit.model) == ("claude-code", "2.1.0", "claude-opus-4")
    assert (hit.prompter, hit.session_id) == ("alice@example.com", "claude-code-session")
    assert hit.signer == AGENT_ID and hit.issuer == world.inst.default_issuer
    assert hit.approvers == ("bob",) and hit.status == "ok" and hit.reasons == ()
    assert hit.paths == ("app/auth/sso.py",) and "path.sso" in hit.rules
    assert hit.skills == (f"sso-skill (sha256:{world.skill_digest})",)
    assert hit.trust_root_digest == indexed.stats.trust_root_digest
    assert hit.attestation.startswith("sha256:") and hit.signed_time is not None
    assert hit.repository == indexed.stats.repository == f"file://{world.repo.path}"
    assert hit.policy_digest.startswith("sha256:")
    (scim,) = query(world.repo.path, Query(model="gpt-5"), db=indexed.db).items
    assert scim.status == "refused" and scim.reasons == ("approval_missing",)


def test_renderers(world: World, indexed: Indexed) -> None:
    hits = query(world.repo.path, Query(), db=indexed.db).items
    table = render_hits(hits, "table").splitlines()
    assert table[0].split()[:4] == ["COMMIT", "SIGNED", "AGENT", "MODEL"]
    rows = {line[:12]: line for line in table[1:]}
    assert "bob" in rows[world.sso[:12]] and " ok " in rows[world.sso[:12]]
    assert "approval_missing" in rows[world.scim[:12]]
    data = json.loads(render_hits(hits, "json"))
    assert {d["commit"] for d in data} == {world.sso, world.scim}
    assert {d["repository"] for d in data} == {indexed.stats.repository}
    by_model = {r["model"]: r for r in csv.DictReader(io.StringIO(render_hits(hits, "csv")))}
    assert by_model["claude-opus-4"]["approvers"] == "bob"
    assert by_model["gpt-5"]["approvers"] == ""
    assert render_hits([], "csv").startswith("commit,signed")


def test_log_and_blame_join_git_with_the_index(world: World, indexed: Indexed) -> None:
    db = indexed.db
    entries = {e.commit: e for e in log(world.repo.path, world.spec, db=db).items}
    assert list(entries) == [world.docs, world.scim, world.sso]
    sso = entries[world.sso]
    assert (sso.agent, sso.model) == ("claude-code@2.1.0", "claude-opus-4")
    assert (sso.approvers, sso.status) == (("bob",), "ok")
    assert entries[world.scim].status == "approval_missing"
    assert (entries[world.docs].agent, entries[world.docs].status) == ("-", "unattested")
    assert len(log(world.repo.path, None, db=db, max_count=2).items) == 2
    assert "SUBJECT" in render_log(list(entries.values()), "table")
    lines = blame(world.repo.path, "app/auth/sso.py", db=db).items
    assert len(lines) == len((world.repo.path / "app/auth/sso.py").read_text().splitlines())
    assert {(b.commit, b.agent, b.model, b.approvers) for b in lines} == {
        (world.sso, "claude-code@2.1.0", "claude-opus-4", ("bob",))
    }
    assert lines[0].line == 1 and lines[0].text.startswith('"""SSO callback')
    human = blame(world.repo.path, "docs/guide.md", db=db).items
    assert [(b.agent, b.commit) for b in human] == [("human-only", world.docs)]
    assert json.loads(render_blame(human, "json"))[0]["agent"] == "human-only"
    with pytest.raises(UsageError):
        blame(world.repo.path, "no/such/file.py", db=db)
    with pytest.raises(UsageError):
        blame(world.repo.path, "app/auth/sso.py", rev="--output=/tmp/x", db=db)


def test_reruns_are_incremental_and_changes_of_trust_rebuild(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    mine, db = clone_world(world, tmp_path), index_db
    first = build_index(mine.repo.path, mine.options(), db=db)
    assert first.rebuilt and first.indexed == 3
    again = build_index(mine.repo.path, mine.options(), db=db)
    assert (again.rebuilt, again.commits_scanned, again.new_lines) == (False, 0, 0)
    new = mine.repo.commit("More SSO", {"app/auth/logout.py": "def logout(s): s.clear()\n"})
    stamp(mine.repo.path, new, session(), mine.signing(AGENT_ID))
    answer = query(mine.repo.path, Query(), db=db)
    assert answer.stale and {h.commit for h in answer.items} == {mine.sso, mine.scim}
    more = build_index(mine.repo.path, mine.options(), db=db)
    assert (more.rebuilt, more.commits_scanned, more.new_lines, more.indexed) == (False, 1, 1, 1)
    answer = query(mine.repo.path, Query(), db=db)
    assert not answer.stale and {h.commit for h in answer.items} == {mine.sso, mine.scim, new}
    rebuilt = build_index(mine.repo.path, mine.options(), db=db, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.totals == more.totals
    policy = tmp_path / "policy.toml"
    text = (mine.repo.path / ".provenance/policy.toml").read_text()
    policy.write_text(text.replace("required = 1", "required = 0"))
    other = build_index(mine.repo.path, mine.options().__class__(
        policy=policy, trusted_root=mine.inst.trusted_root_path, offline=True), db=db)  # fmt: skip
    assert other.rebuilt  # another policy: everything is verified again
    assert [h.status for h in query(mine.repo.path, Query(), db=db).items] == ["ok"] * 3


def test_a_note_that_went_away_leaves_no_verified_row(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    mine, db = clone_world(world, tmp_path), index_db
    build_index(mine.repo.path, mine.options(), db=db)
    assert mine.sso in _commits_in(mine, db, approver="bob")
    mine.repo.git("notes", "--ref=refs/notes/provenance", "remove", mine.sso)
    again = build_index(mine.repo.path, mine.options(), db=db)
    assert again.rebuilt  # a row for a line no longer stored would be a false "verified"
    assert _commits_in(mine, db) == {mine.scim}
    assert _commits_in(mine, db, approver="bob") == set()


def test_a_rotated_key_file_rebuilds_the_index(tmp_path: Path, index_db: IndexUrl) -> None:
    keyed = make_keyed(tmp_path)
    options = VerifyOptions(offline=True)
    db = index_db
    with network_restored():
        first = build_index(keyed.repo.path, options, db=db)
        assert first.indexed == 1
        # the key is revoked: HEAD trusts another key; policy.toml's bytes are unchanged
        other = _public_pem(ec.generate_private_key(ec.SECP256R1()))
        keyed.repo.commit("rotate the compromised key", {KEY_PATH: other})
        second = build_index(keyed.repo.path, options, db=db)
    assert second.rebuilt and second.totals["attestations"] == 0
    assert query(keyed.repo.path, Query(), db=db).items == []


def _commits_of(world: World, indexed: Indexed, **filters: object) -> set[str]:
    """Matching commits (order aside: signed times have one-second resolution)."""
    return _commits_in(world, indexed.db, **filters)


def _commits_in(world: World, db: IndexUrl, **filters: object) -> set[str]:
    return {h.commit for h in query(world.repo.path, Query(**filters), db=db).items}  # type: ignore[arg-type]


def test_a_line_copied_onto_another_commit_hides_nothing(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """A copy seen first on the wrong commit is refused there, and still indexed on its own."""
    mine, db = clone_world(world, tmp_path), index_db
    ref = "--ref=refs/notes/provenance"
    note = mine.repo.git("notes", ref, "show", mine.sso)
    mine.repo.git("notes", ref, "remove", mine.sso)  # not fetched yet; a copy arrived first
    mine.repo.git("notes", ref, "add", "-m", note.splitlines()[0], mine.docs)
    first = build_index(mine.repo.path, mine.options(), db=db)
    assert (first.indexed, first.refused) == (1, 3)  # scim's change; the copy is refused
    mine.repo.git("notes", ref, "add", "-m", note, mine.sso)
    second = build_index(mine.repo.path, mine.options(), db=db)
    assert (second.new_lines, second.indexed, second.refused) == (2, 2, 0)
    hits = query(mine.repo.path, Query(agent="claude-code"), db=db)
    assert [(h.commit, h.approvers) for h in hits.items] == [(mine.sso, ("bob",))]
    refused = set(_sql(db, "SELECT commit_sha, reasons FROM lines WHERE NOT ok"))
    assert (mine.docs, "subject_mismatch") in refused


def test_a_clone_without_notes_indexes_nothing_and_says_so(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    repo = GitRepo.init(tmp_path / "bare-notes")
    repo.commit("policy", {".provenance/policy.toml": policy_text(world.inst.default_issuer)})
    stats = build_index(repo.path, world.options(), db=index_db)
    assert not stats.notes_available and stats.totals["attestations"] == 0


def test_queries_without_an_index_could_not_decide(world: World, tmp_path: Path) -> None:
    with pytest.raises(ProvenanceError) as e:
        query(world.repo.path, Query(), db=tmp_path / "missing.sqlite")
    assert e.value.exit_code == 3
    with pytest.raises(UsageError):
        parse_when("last tuesday")
    assert parse_when("2025-09-30", end=True) == datetime(2025, 10, 1, tzinfo=UTC)
