"""Revocations judged against the index (issue 18, item 3): ``impact --db`` lists every
repository and commit whose evidence an entry withdraws, with its standing before and what is
left; ``query --revoked`` lists the rows. Runs on both backends.

Repositories A and B are clones of one world (same commit ids: an answer that forgot the
repository would mix them); C holds only the ``scim`` commit (its ``sso`` note removed).
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from provenance._cli import _register, cli
from provenance.app.audit import build_index, query, upgrade_index
from provenance.app.impact_index import impact_index, index_impact_to_dict, query_revoked
from provenance.audit import Index, IndexUrl, Query, parse_index_url, sqlite_url
from provenance.audit.revoked import Standing, revoked_rows
from provenance.errors import UsageError
from provenance.revocations import Revocations
from tests.audit.conftest import BACKENDS, BOB, World, clone_world, real_rows
from tests.conftest import AGENT_ID

A, B, C, KEYED = "github.com/org/a", "github.com/org/b", "github.com/org/c", "github.com/org/k"


def _three(world: World, tmp_path: Path, db: IndexUrl) -> tuple[World, World]:
    """Index A (one approval required), B (its HEAD policy requires none) and C (scim only)."""
    for name in "abc":
        (tmp_path / name).mkdir()
    a, b, c = (clone_world(world, tmp_path / n) for n in "abc")
    policy = b.repo.path / ".provenance" / "policy.toml"
    b.repo.commit("relax", {".provenance/policy.toml": policy.read_text().replace(
        "required = 1", "required = 0")})  # fmt: skip
    c.repo.git("notes", "--ref=refs/notes/provenance", "remove", c.sso)
    for clone, rid in ((a, A), (b, B), (c, C)):
        build_index(clone.repo.path, clone.options(), db=db, repository=rid)
    return a, b


def _file(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "revocations.toml"
    path.write_text("version = 1\n\n" + "\n".join(f"[[revocation]]\n{e}\n" for e in entries))
    return path


def _digests(db: IndexUrl, repository: str) -> dict[str, str]:
    return {h.commit: h.attestation for h in query(None, Query(repository=repository), db=db).items}


def test_a_revoked_skill_digest_hits_its_commit_in_every_repository_and_nothing_else(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """THREATS.md G60 (revocation by cause): the poisoned skill's digest withdraws the
    ``sso`` change in A and in B (each repository's own standing before), never ``scim``
    (another skill) nor anything of C; no change attestation is left, so *now* is refused."""
    a, _ = _three(world, tmp_path, index_db)
    file = _file(tmp_path, f'id = "INC-7"\nskill = "sha256:{world.skill_digest}"\n'
                           'reason = "poisoned upstream"')  # fmt: skip
    result = index_impact_to_dict(impact_index(None, "INC-7", db=index_db, revocations=file))
    sso = _digests(index_db, A)[a.sso]
    change = {"commit": a.sso, "kind": "change", "signer": AGENT_ID}

    def commit(repository: str) -> dict[str, object]:
        return {
            "repository": repository,
            "commit": a.sso,
            "before": {"status": "ok", "reasons": [], "approvers": ["bob"]},
            "now": {"status": "refused", "reasons": ["revoked"], "approvers": []},
            "withdrawn": [change | {"repository": repository, "attestation": sso}],
            "left": [],
        }

    for c in result["commits"]:  # type: ignore[attr-defined]
        for w in c["withdrawn"]:
            assert re.fullmatch("[0-9a-f]{64}", w.pop("line_digest"))
            assert w.pop("signed_time") is not None  # the verified (Rekor) time
            assert (w.pop("revocations"), w.pop("hit")) == (["INC-7"], "certain")
            assert w.pop("refused_when_indexed") is False
    assert result == {
        "revocation": {
            "id": "INC-7",
            "cause": "skill",
            "value": f"sha256:{world.skill_digest}",
            "from": None,
            "until": None,
            "reason": "poisoned upstream",
            "reference": None,
            "found_in": str(file),
        },
        "index": index_db.shown(),
        "summary": {
            "repositories_hit": 2,
            "commits_hit": 2,
            "passed_before_refused_now": 2,
            "passed_before_undecided_now": 0,
            "possible_hits": 0,
        },
        "commits": [commit(A), commit(B)],
    }
    only_b = impact_index(None, "INC-7", db=index_db, revocations=file, repository=B)
    assert [(h.repository, h.commit) for h in only_b.commits] == [(B, a.sso)]


def test_a_window_is_judged_on_the_verified_signed_time(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """THREATS.md G60: a window around the row's verified signed time hits it, one that
    ends a second before it does not; a row with no verified time (key-signed) is a possible
    hit, said so, and counted as withdrawn in *now* (fail closed for the report)."""
    a, _ = _three(world, tmp_path, index_db)
    signed = next(h.signed_time for h in query(None, Query(repository=A), db=index_db).items
                  if h.commit == a.sso)  # fmt: skip
    assert signed is not None
    skill = f'skill = "sha256:{world.skill_digest}"\nreason = "r"'
    around = f"from = {(signed - timedelta(seconds=1)).isoformat()}\n" \
             f"until = {(signed + timedelta(seconds=1)).isoformat()}"  # fmt: skip
    before = f"until = {signed.isoformat()}"  # until is exclusive
    file = _file(tmp_path, f'id = "in"\n{skill}\n{around}', f'id = "out"\n{skill}\n{before}')
    inside = impact_index(None, "in", db=index_db, revocations=file)
    assert [(h.repository, h.commit) for h in inside.commits] == [(A, a.sso), (B, a.sso)]
    assert impact_index(None, "out", db=index_db, revocations=file).commits == ()
    keyed = [r.model_copy(update={"signed_time": None}) for r in real_rows(world)]
    approval = next(r for r in keyed if r.kind == "approval" and r.commit == world.sso)
    with Index.open(index_db) as index, index.writing(KEYED) as w:
        w.add(keyed)
        w.set_standings([(world.sso, "ok", (), ("bob",), [approval.line_digest])])
    out = index_impact_to_dict(impact_index(None, "out", db=index_db, revocations=file))
    assert out["summary"] == {
        "repositories_hit": 1,
        "commits_hit": 1,
        "passed_before_refused_now": 1,
        "passed_before_undecided_now": 0,
        "possible_hits": 1,
    }
    commits: Any = out["commits"]
    (hit,) = commits
    assert (hit["repository"], hit["commit"], hit["now"]["status"]) == (KEYED, world.sso, "refused")
    assert [(w["hit"], w["signed_time"]) for w in hit["withdrawn"]] == [("possible", None)]


def test_a_revoked_approval_leaves_its_commit_with_fewer_approvers(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """THREATS.md G60: bob's approvals stop counting; ``sso`` keeps its change attestation
    but no approver: refused in A (one approval required, counted with A's own policy),
    still ok in B (none required); ``scim`` (never approved) and C are untouched. A
    repository whose required count the index does not know is *undecided*."""
    a, _ = _three(world, tmp_path, index_db)
    file = _file(tmp_path, f'id = "bob"\napprover = "{BOB}"\nreason = "account compromised"')
    result = impact_index(None, "bob", db=index_db, revocations=file)
    sso = _digests(index_db, A)[a.sso]
    assert [
        (h.repository, h.commit, h.before, h.now, h.left, [w.kind for w in h.withdrawn])
        for h in result.commits
    ] == [
        (A, a.sso, Standing("ok", (), ("bob",)),
         Standing("refused", ("approval_threshold_not_met", "revoked"), ()), (sso,), ["approval"]),
        (B, a.sso, Standing("ok", (), ("bob",)), Standing("ok", (), ()), (sso,), ["approval"]),
    ]  # fmt: skip
    with Index.open(index_db, create=False) as index, index.writing(A) as w:
        w.set_settings({"approvals_required": None})  # type: ignore[dict-item]
    again = impact_index(None, "bob", db=index_db, revocations=file, repository=A)
    assert [(h.now.status, h.now.reasons) for h in again.commits] == [("undecided", ("revoked",))]


def test_query_revoked_lists_the_rows_every_entry_withdraws(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """``query --revoked`` (the CLI, JSON) names each withdrawn row with its repository,
    commit, kind and entries; the clone's own work-tree file is read when none is named."""
    a, _ = _three(world, tmp_path, index_db)
    file = _file(
        tmp_path,
        f'id = "bob"\napprover = "{BOB}"\nreason = "account compromised"',
        'id = "codex"\nagent = "codex@<1"\nreason = "CVE-2026-0001"',
    )
    args = [
        "query",
        "--revoked",
        "--revocations",
        str(file),
        "--db",
        index_db.url.render_as_string(hide_password=False),
    ]
    _register()
    run = CliRunner().invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert run.exit_code == 0, run.output
    rows = json.loads(run.stdout)
    got = sorted((r["repository"], r["commit"], r["kind"], r["revocations"][0], r["hit"])
                 for r in rows)  # fmt: skip
    assert got == sorted([
        (A, a.sso, "approval", "bob", "certain"),
        (A, a.scim, "change", "codex", "certain"),
        (B, a.sso, "approval", "bob", "certain"),
        (B, a.scim, "change", "codex", "certain"),
        (C, a.scim, "change", "codex", "certain"),
    ])  # fmt: skip
    assert all(len(r["revocations"]) == 1 for r in rows)
    mixed = CliRunner().invoke(cli, [*args, "--model", "gpt-5"])
    assert isinstance(mixed.exception, UsageError) and "no other filter" in str(mixed.exception)
    (a.repo.path / ".provenance" / "revocations.toml").write_text(file.read_text())
    rows_here, _ = query_revoked(a.repo.path, db=index_db, repository=C)
    assert [(r.repository, r.commit, r.revocations) for r in rows_here] == [(C, a.scim, ("codex",))]


def test_a_line_the_index_refused_as_revoked_is_a_possible_hit_never_left_out(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """THREATS.md G60, fail closed for the report: D committed the entry before it was
    indexed, so the index refused the ``sso`` change as ``revoked`` and kept none of its
    facts; ``impact --db`` (reading the entry at D's HEAD) still lists that line, marked as
    a possible hit refused when indexed, and ``scim`` stays untouched."""
    (tmp_path / "d").mkdir()
    d = clone_world(world, tmp_path / "d")
    entry = f'id = "INC-7"\nskill = "sha256:{world.skill_digest}"\nreason = "poisoned"'
    d.repo.commit("Revoke", {".provenance/revocations.toml": _file(tmp_path, entry).read_text()})
    build_index(d.repo.path, d.options(), db=index_db, repository="github.com/org/d")
    result = impact_index(d.repo.path, "INC-7", db=index_db)
    assert result.found_in.endswith(":.provenance/revocations.toml")
    got = [
        (h.commit, h.before.status, h.now.status, [(w.kind, w.unproven, w.when_indexed)
                                                   for w in h.withdrawn])
        for h in result.commits
    ]  # fmt: skip
    assert got == [(d.sso, "refused", "refused", [("unknown", True, True)])]
    rows, _ = query_revoked(d.repo.path, db=index_db)
    assert [(r.commit, r.when_indexed) for r in rows] == [(d.sso, True)]


def test_a_prompter_entry_matches_who_signed_the_prompt_from_the_index(
    world: World, index_db: IndexUrl
) -> None:
    """THREATS.md G50/G60: a ``prompter`` entry matches the asserted prompter or who signed
    the prompt attestation, as the gate does; the index keeps the signer (revision 0002),
    so a change asserted as alice's but signed by erin is a hit of an entry naming erin."""
    rows = [
        r.model_copy(update={"signed_prompter": "erin@example.com"}) if r.commit == world.sso
        else r
        for r in real_rows(world)
    ]  # fmt: skip
    with Index.open(index_db) as index, index.writing(KEYED) as w:
        w.add(rows)
    erin = Revocations.model_validate(
        {"revocation": [{"id": "erin", "prompter": "ERIN@example.com", "reason": "r"}]}
    )
    with Index.open(index_db, create=False) as index:
        hits = revoked_rows(index, erin)
    assert [(h.commit, h.kind, h.revocations) for h in hits] == [(world.sso, "change", ("erin",))]


def _at_0001(url: str, settings: dict[str, str]) -> None:
    """A database migrated to revision 0001 only, holding repository A's settings."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        config = Config()
        config.set_main_option("script_location", "provenance.audit:migrations")
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        keys = ("policy_digest", "keys_digest", "trust_root_digest", "notes_ref")
        conn.execute(
            text("INSERT INTO repositories (name, policy_digest, keys_digest, trust_root_digest, "
                 "notes_ref) VALUES (:name, :policy_digest, :keys_digest, :trust_root_digest, "
                 ":notes_ref)"),
            {"name": A, **{k: settings[k] for k in keys}},
        )  # fmt: skip
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_revision_0002_makes_every_repository_rebuild_its_rows(
    world: World, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Rows written before 0002 do not know who signed a prompt: the migration clears every
    repository's policy setting, so its next index run rebuilds instead of trusting them."""
    if backend == "sqlite":
        db = sqlite_url(tmp_path / "index.sqlite")
    else:
        from tests.postgres import create_database, drop_database

        created = create_database(request.getfixturevalue("postgres"))
        request.addfinalizer(lambda: drop_database(created))
        db = parse_index_url(created)
    (tmp_path / "a").mkdir()
    a = clone_world(world, tmp_path / "a")
    head = sqlite_url(tmp_path / "head.sqlite")
    build_index(a.repo.path, a.options(), db=head, repository=A)
    with Index.open(head, create=False) as index:
        settings = index.settings(A)
    _at_0001(db.url.render_as_string(hide_password=False), settings)
    if backend == "postgresql":
        assert upgrade_index(db) == ("0001", "0002")
    assert build_index(a.repo.path, a.options(), db=db, repository=A).rebuilt


def test_impact_db_text_names_each_repository_and_commit(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """The people form on stdout: one line per repository and commit, then the count; a
    range and --db together is a usage error (exit 2)."""
    a, _ = _three(world, tmp_path, index_db)
    file = _file(tmp_path, f'id = "INC-7"\nskill = "sha256:{world.skill_digest}"\nreason = "bad"')
    url = index_db.url.render_as_string(hide_password=False)
    _register()
    args = ["impact", "--revocation", "INC-7", "--db", url, "--revocations", str(file)]
    run = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert run.exit_code == 0, run.output
    line = "{}  {}  ok -> refused  (revoked); 1 line(s) withdrawn, 0 change attestation(s) " \
           "left, approvers left: -"  # fmt: skip
    assert run.stdout.splitlines() == [
        f"revocation INC-7 (skill sha256:{world.skill_digest}): bad  [index {index_db.shown()}]",
        line.format(A, a.sso[:12]),
        line.format(B, a.sso[:12]),
        "2 commit(s) hit in 2 repository(ies)",
    ]
    both = CliRunner().invoke(cli, [*args, f"{a.base}..HEAD"])
    assert isinstance(both.exception, UsageError) and both.exception.exit_code == 2
    assert "either a range BASE..HEAD or an index" in str(both.exception)


def test_an_entry_not_yet_committed_is_found_in_the_work_tree_as_over_a_range(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """``impact --db`` reads the entry where ``impact BASE..HEAD`` does: HEAD's file first,
    then the work tree's, so an entry just added by ``provenance revoke`` (not yet committed)
    is found even when HEAD already has a revocations file without it."""
    (tmp_path / "e").mkdir()
    e = clone_world(world, tmp_path / "e")
    old = 'id = "OLD-1"\nmodel = "no-such-model"\nreason = "unrelated"'
    committed = _file(tmp_path, old).read_text()
    e.repo.commit("Revoke an unrelated model", {".provenance/revocations.toml": committed})
    build_index(e.repo.path, e.options(), db=index_db, repository="github.com/org/e")
    new = f'id = "INC-9"\nskill = "sha256:{world.skill_digest}"\nreason = "poisoned"'
    (e.repo.path / ".provenance" / "revocations.toml").write_text(
        _file(tmp_path, old, new).read_text()
    )
    result = impact_index(e.repo.path, "INC-9", db=index_db)
    assert result.found_in == str(e.repo.path / ".provenance" / "revocations.toml")
    assert [h.commit for h in result.commits] == [e.sso]
