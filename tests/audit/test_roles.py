"""PostgreSQL roles on a shared index, against the real test server (issue 19).

The printed roles SQL runs as is (with per-test group names: roles are global to a server);
an auditor reads and cannot write; per-repository writers write only their repository
(row-level security), and ``provenance index`` refuses to start with a role that could
alter another repository's rows (exit 3), before it writes anything.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from provenance.app.audit import build_index, query, upgrade_index
from provenance.audit import AuditIndexError, IndexUrl, Query, parse_index_url
from provenance.audit.roles import roles_sql
from tests.audit.conftest import World, clone_world
from tests.helpers import Result

A, B = "github.com/org/a", "github.com/org/b"


@dataclass(frozen=True)
class Org:
    """A migrated index, its owner's URL, and a function for login roles' URLs."""

    owner: str
    suffix: str
    a: World
    b: World

    def role(self, name: str) -> str:
        return f"{name}_{self.suffix}"

    def as_role(self, name: str) -> IndexUrl:
        url = make_url(self.owner).set(username=self.role(name), password=f"pw-{self.suffix}")
        return parse_index_url(url.render_as_string(hide_password=False))

    def sql(self, statement: str, url: str | None = None) -> None:
        with psycopg.connect(url or self.owner, autocommit=True) as conn:
            conn.execute(statement)


_LOGINS = {
    "ci": "ix",  # generic indexer
    "aud": "au",  # auditor
    "ci_a": "wa",  # writer of A
    "ci_b": "wb",  # writer of B
    "ci_ab": "wa, wb",  # member of both writer roles
}


@pytest.fixture
def org(world: World, tmp_path: Path, pg_database: str) -> Iterator[Org]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    o = Org(pg_database, secrets.token_hex(3), clone_world(world, tmp_path / "a"),
            clone_world(world, tmp_path / "b"))  # fmt: skip
    upgrade_index(parse_index_url(pg_database))
    o.sql(roles_sql(o.role("ix"), o.role("au")))
    made = [o.role("wa"), o.role("wb")]
    for group in made:
        o.sql(f"CREATE ROLE {group} NOLOGIN IN ROLE {o.role('ix')}")
    for login, groups in _LOGINS.items():
        member = ", ".join(o.role(g.strip()) for g in groups.split(","))
        o.sql(f"CREATE ROLE {o.role(login)} LOGIN PASSWORD 'pw-{o.suffix}' IN ROLE {member}")
        made.append(o.role(login))
    roles = [*made, o.role("ix"), o.role("au")]
    try:
        yield o
    finally:  # privileges first (in this database), then the roles (server-wide)
        admin = make_url(pg_database).set(database="postgres").render_as_string(False)
        for role in roles:
            o.sql(f"DROP OWNED BY {role}")
        for role in roles:
            o.sql(f"DROP ROLE IF EXISTS {role}", admin)


def _register(o: Org) -> None:
    with psycopg.connect(o.owner, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO index_writers VALUES (%s, %s), (%s, %s)",
            (A, o.role("wa"), B, o.role("wb")),
        )


def test_the_printed_roles_run_an_indexer_writes_and_an_auditor_only_reads(org: Org) -> None:
    stats = build_index(org.a.repo.path, org.a.options(), db=org.as_role("ci"), repository=A)
    assert stats.indexed == 3
    hits = query(None, Query(), db=org.as_role("aud")).items  # read-only: no temporary table
    assert {h.commit for h in hits} == {org.a.sso, org.a.scim}
    with pytest.raises(AuditIndexError) as e:
        build_index(org.b.repo.path, org.b.options(), db=org.as_role("aud"), repository=B)
    assert "permission denied" in str(e.value) and e.value.exit_code == 3
    assert f"pw-{org.suffix}" not in e.value.diagnostics()


def test_per_repository_writers_write_only_their_own_rows(org: Org) -> None:
    _register(org)
    build_index(org.a.repo.path, org.a.options(), db=org.as_role("ci_a"), repository=A)
    build_index(org.b.repo.path, org.b.options(), db=org.as_role("ci_b"), repository=B)
    with pytest.raises(AuditIndexError) as e:
        build_index(org.b.repo.path, org.b.options(), db=org.as_role("ci_a"), repository=B)
    assert "is not the registered writer of github.com/org/b" in str(e.value)
    b_url = org.as_role("ci_a").url.render_as_string(hide_password=False).replace("+psycopg", "")
    with psycopg.connect(b_url, autocommit=True) as conn:  # around the tool, straight SQL
        b_id = conn.execute("SELECT id FROM repositories WHERE name = %s", (B,)).fetchone()
        assert b_id is not None
        changed = conn.execute("UPDATE attestations SET status = 'ok' WHERE repo_id = %s", b_id)
        assert changed.rowcount == 0
        assert conn.execute("DELETE FROM commits WHERE repo_id = %s", b_id).rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO commits VALUES (%s, 'abc', 'ok', '', '')", b_id)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE repositories SET name = %s WHERE name = %s", (B + "x", A))
        # a temporary table named like the registry must not grant another repository
        conn.execute("CREATE TEMP TABLE index_writers (repository text, role text)")
        conn.execute("INSERT INTO index_writers VALUES (%s, %s)", (B, org.role("ci_a")))
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO commits VALUES (%s, 'abc', 'ok', '', '')", b_id)
    statuses = {
        (h.repository, h.commit): h.status
        for h in query(None, Query(), db=org.as_role("aud")).items
    }
    assert statuses[(B, org.a.scim)] == "refused"


@pytest.mark.parametrize("power", ["two repositories", "bypassrls", "truncate", "owner", "policy"])
def test_index_refuses_a_role_that_could_alter_another_repository(org: Org, power: str) -> None:
    """THREATS.md (issue 19): a per-repository index job must not hold more than its repository."""
    _register(org)
    login = "ci_ab" if power == "two repositories" else "ci_a"
    if power == "bypassrls":
        org.sql(f"ALTER ROLE {org.role('ci_a')} BYPASSRLS")
    elif power == "truncate":
        org.sql(f"GRANT TRUNCATE ON attestations TO {org.role('ci_a')}")
    elif power == "policy":
        org.sql("CREATE POLICY open_door ON commits FOR ALL USING (true) WITH CHECK (true)")
    db = org.as_role(login) if power != "owner" else parse_index_url(org.owner)
    with pytest.raises(AuditIndexError) as e:
        build_index(org.a.repo.path, org.a.options(), db=db, repository=A)
    text = str(e.value)
    assert e.value.exit_code == 3 and text.startswith("refusing to index")
    expected = {
        "two repositories": "may also write 1 other repositories (github.com/org/b)",
        "bypassrls": "BYPASSRLS",
        "truncate": "TRUNCATE or TRIGGER on table attestations",
        "owner": "superuser",
        "policy": "policy 'open_door'",
    }[power]
    assert expected in text
    assert query(None, Query(), db=parse_index_url(org.owner)).items == []  # nothing written


def _cli(args: list[str], cwd: Path, url: IndexUrl | None, password: str) -> Result:
    """``python -m provenance`` with the index in ``PROVENANCE_INDEX_URL`` (no password in it)
    and the password in ``PGPASSWORD``, as the README's organisation section runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROVENANCE_", "PG"))}
    if url is not None:
        plain = url.url.set(drivername="postgresql", password=None)
        env["PROVENANCE_INDEX_URL"] = plain.render_as_string(hide_password=False)
        env["PGPASSWORD"] = password
    argv = [sys.executable, "-m", "provenance", *args]
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_the_readme_organisation_commands_as_processes(org: Org, tmp_path: Path) -> None:
    """README "One index for an organisation": an indexer role indexes a clone through
    ``PROVENANCE_INDEX_URL`` and ``PGPASSWORD``; an auditor role queries from outside any
    clone, and runs ``log`` and ``blame`` in one; the auditor cannot index (exit 3); no
    password is ever printed."""
    password, a = f"pw-{org.suffix}", org.a
    trust = ["--offline", "--trusted-root", str(a.inst.trusted_root_path)]
    upgrade = _cli(["index", "--upgrade", "--db", org.owner], tmp_path, None, "")
    assert upgrade.returncode == 0 and "nothing to do" in upgrade.stderr, upgrade.stderr
    ci, auditor = org.as_role("ci"), org.as_role("aud")
    done = _cli(["index", *trust, "--repository-id", A], a.repo.path, ci, password)
    assert done.returncode == 0, done.stderr
    assert f" {A} in postgresql://ci_" in done.stderr and "3 indexed" in done.stderr
    bob = _cli(["query", "--approver", "bob", "--path", "app/**", "--format", "json"],
               tmp_path, auditor, password)  # fmt: skip
    assert bob.returncode == 0, bob.stderr
    assert [(h["repository"], h["commit"]) for h in bob.json()] == [(A, a.sso)]
    one = _cli(["query", "--repository", f"https://{A}.git", "--format", "json"], tmp_path,
               auditor, password)  # fmt: skip
    assert {h["commit"] for h in one.json()} == {a.sso, a.scim}
    log = _cli(["log", "--repository-id", A, "--format", "json", a.spec], a.repo.path,
               auditor, password)  # fmt: skip
    assert {e["commit"]: e["status"] for e in log.json()} == {
        a.sso: "ok",
        a.scim: "approval_missing",
        a.docs: "unattested",
    }
    blame = _cli(["blame", "--repository-id", A, "--format", "json", "app/auth/sso.py"],
                 a.repo.path, auditor, password)  # fmt: skip
    assert {line["agent"] for line in blame.json()} == {"claude-code@2.1.0"}
    refused = _cli(["index", *trust, "--repository-id", A], a.repo.path, auditor, password)
    assert refused.returncode == 3 and "permission denied" in refused.stderr, refused.stderr
    for r in (done, bob, one, log, blame, refused):
        assert password not in r.stdout + r.stderr
