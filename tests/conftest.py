"""Shared fixtures: devinstances (session-scoped) and a golden stamped repository."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.app.gate import verify
from provenance.app.options import VerifyOptions
from provenance.app.stamp import StampResult, stamp
from provenance.devinstance import DevInstance
from provenance.policy import render_template
from provenance.record.change import SessionContext, prompt_from_text
from provenance.sign.signing import SigningOptions
from provenance.verify.report import Report
from tests.helpers import SSO_CALLBACK, GitRepo


def pytest_configure(config: pytest.Config) -> None:
    """Keep provenance's private state (pending registry) out of the real home directory.

    Set for the whole process, so CLI subprocesses started by a test share it.
    """
    os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="provenance-test-state-")


AGENT_ID = "agent-bot@example.com"


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server's admin URL, once per test session (per xdist worker at most).

    ``scripts/test`` starts one and exports ``PROVENANCE_TEST_POSTGRES_URL`` (set it to use
    your own server); otherwise one is started here. Without any, PostgreSQL tests skip with
    the reason, except in CI, where they must run.
    """
    from tests.postgres import ENV_URL, NoServer, start, stop

    given = os.environ.get(ENV_URL)
    if given:
        yield given
        return
    try:
        server = start()
    except NoServer as e:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but no server could start: {e}")
        pytest.skip(f"no PostgreSQL server ({e}); scripts/test starts one, or set {ENV_URL}")
    try:
        yield server.url
    finally:
        stop(server.directory)


@pytest.fixture
def pg_database(postgres: str) -> Iterator[str]:
    """A new empty database on the test server (dropped afterwards): its URL."""
    from tests.postgres import create_database, drop_database

    url = create_database(postgres)
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevInstance]:
    """Rekor v1 with a TSA: the default instance for tests."""
    with DevInstance(tmp_path_factory.mktemp("dev-v1"), rekor_version=1, tsa=True) as inst:
        yield inst


@pytest.fixture(scope="session")
def dev_v2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevInstance]:
    """Rekor v2 with a TSA (signed time from the TSA only)."""
    with DevInstance(tmp_path_factory.mktemp("dev-v2"), rekor_version=2, tsa=True) as inst:
        yield inst


@pytest.fixture(scope="session")
def dev_notsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevInstance]:
    """Rekor v1 without a TSA (signed time from the SET only)."""
    with DevInstance(tmp_path_factory.mktemp("dev-notsa"), rekor_version=1, tsa=False) as inst:
        yield inst


def session(prompter: str = "alice@example.com") -> SessionContext:
    """A typical agent session."""
    return SessionContext(
        tool="claude-code",
        tool_version="2.1.0",
        model="claude-opus-4",
        prompter=prompter,
        prompt=prompt_from_text(b"add SSO login"),
        session_id="sess-1",
    )


@dataclass
class Golden:
    """A repository whose policy trusts AGENT_ID, with an SSO commit stamped by it."""

    repo: GitRepo
    inst: DevInstance
    commit: str
    stamped: StampResult

    def keyless(self, identity: str = AGENT_ID, issuer: str | None = None) -> SigningOptions:
        token = self.inst.issue_token(identity, issuer)
        return SigningOptions(identity_token=token, trust_config=self.inst.trust_config_path)

    def stamp(self, rev: str = "HEAD", identity: str = AGENT_ID) -> StampResult:
        return stamp(self.repo.path, rev, session(), self.keyless(identity))

    def verify(self, *revs: str, policy: Path | None = None) -> Report:
        options = VerifyOptions(
            policy=policy, trusted_root=self.inst.trusted_root_path, offline=True
        )
        return verify(self.repo.path, list(revs or ("HEAD",)), options)

    def notes(self, rev: str = "HEAD") -> list[bytes]:
        out = self.repo.git("notes", "--ref=refs/notes/provenance", "show", rev)
        return [line.encode() for line in out.splitlines() if line]

    def replace_notes(self, lines: list[bytes], rev: str = "HEAD") -> None:
        """Overwrite the stored note (as an attacker with push access could)."""
        self.repo.git(
            "notes",
            "--ref=refs/notes/provenance",
            "add",
            "-f",
            "-F",
            "-",
            rev,
            input=b"\n".join(lines) + b"\n",
        )


def make_golden(tmp_path: Path, inst: DevInstance) -> Golden:
    """Build the golden fixture of THREATS.md on ``inst``."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit(
        "policy",
        {
            ".provenance/policy.toml": render_template(inst.default_issuer, AGENT_ID),
            "README.md": "app\n",
        },
    )
    sha = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    golden = Golden(repo=repo, inst=inst, commit=sha, stamped=None)  # type: ignore[arg-type]
    golden.stamped = golden.stamp()
    return golden


@pytest.fixture(scope="session")
def golden_template(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Golden:
    """The golden fixture, built and stamped once per session (per xdist worker at most).

    Tests never get it: ``golden`` hands each test its own copy of the repository.
    """
    return make_golden(tmp_path_factory.mktemp("golden-template"), dev)


@pytest.fixture
def golden(tmp_path: Path, golden_template: Golden) -> Golden:
    """Golden fixture on the default (Rekor v1 + TSA) instance: a repository of this test's own.

    A copy of the session's stamped repository (the same commits and attestation, as if
    ``make_golden`` had run here), so whatever a test does to its repository, notes or
    registry entries (keyed by the repository's path) reaches no other test. Stamping costs
    a signing round trip, so it happens once, not once per test.
    """
    path = tmp_path / "repo"
    shutil.copytree(golden_template.repo.path, path, symlinks=True)
    template = golden_template
    return Golden(GitRepo(path), template.inst, template.commit, template.stamped)
