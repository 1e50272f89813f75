"""One audited repository per session: stamped by the agent wrapper, approved by a human.

History (``base`` holds the policy: agent-bot signs, one approval from bob or carol):

* ``sso``  app/auth/sso.py by claude-code@2.1.0 / claude-opus-4, prompted by alice, with a
  skill directory (digested); approved by bob.
* ``scim`` app/scim/users.py by codex@0.9 / gpt-5, prompted by dave, skill scim-kit@1.2.0;
  also carries a line signed by mallory (not a signer) and a garbage line; nobody approved.
* ``docs`` docs/guide.md, by a human, never stamped.

Tests read it only; anything that writes works on a clone (:func:`clone_world`).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.app.approve import approve, preview
from provenance.app.audit import upgrade_index
from provenance.app.options import VerifyOptions
from provenance.app.stamp import stamp
from provenance.audit import AttestationRow, IndexUrl, parse_index_url, sqlite_url
from provenance.devinstance import DevInstance
from provenance.predicates import ResourceDescriptor
from provenance.record.change import SessionContext, directory_digest, prompt_from_text
from provenance.sign.signing import SigningOptions
from tests.conftest import AGENT_ID
from tests.helpers import SSO_CALLBACK, GitRepo

BOB, CAROL, MALLORY = "bob@example.com", "carol@example.com", "mallory@example.com"
SCIM = "def deprovision(user):\n    user.active = False\n    user.sessions.revoke_all()\n"


def policy_text(issuer: str) -> str:
    """Agent-bot signs; one approval from bob or carol."""
    return (
        f'version = 1\n\n[[signers]]\nissuer = "{issuer}"\nidentity = "{AGENT_ID}"\n\n'
        "[approvals]\nrequired = 1\n\n"
        f'[[approvers]]\nissuer = "{issuer}"\nidentity = "{BOB}"\nperson = "bob"\n\n'
        f'[[approvers]]\nissuer = "{issuer}"\nidentity = "{CAROL}"\nperson = "carol"\n'
    )


@dataclass(frozen=True)
class World:
    """The audited repository and what was stamped into it."""

    repo: GitRepo
    inst: DevInstance
    base: str
    sso: str
    scim: str
    docs: str
    skill_digest: str

    @property
    def spec(self) -> str:
        return f"{self.base}..{self.docs}"

    def options(self) -> VerifyOptions:
        return VerifyOptions(trusted_root=self.inst.trusted_root_path, offline=True)

    def signing(self, identity: str) -> SigningOptions:
        token = self.inst.issue_token(identity)
        return SigningOptions(identity_token=token, trust_config=self.inst.trust_config_path)


def _session(
    tool: str, version: str, model: str, prompter: str, skill: ResourceDescriptor
) -> SessionContext:
    return SessionContext(
        tool=tool,
        tool_version=version,
        model=model,
        prompter=prompter,
        prompt=prompt_from_text(f"{tool} {model}".encode()),
        session_id=f"{tool}-session",
        skills=(skill,),
    )


def build_world(root: Path, inst: DevInstance) -> World:
    """Build, stamp and approve the repository described in the module docstring."""
    repo = GitRepo.init(root / "repo")
    base = repo.commit("policy", {".provenance/policy.toml": policy_text(inst.default_issuer)})
    sso = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    scim = repo.commit("SCIM deprovisioning", {"app/scim/users.py": SCIM})
    docs = repo.commit("Write the guide", {"docs/guide.md": "# Guide\n"})
    skill_dir = root / "sso-skill"
    skill_dir.mkdir()
    (skill_dir / "SKILL.md").write_text("# SSO skill\n")
    digest = directory_digest(skill_dir)
    world = World(repo, inst, base, sso, scim, docs, digest)
    sso_skill = ResourceDescriptor(
        name="sso-skill", uri="file:sso-skill", digest={"sha256": digest}
    )
    scim_skill = ResourceDescriptor(name="scim-kit", version="1.2.0")
    stamp(
        repo.path,
        sso,
        _session("claude-code", "2.1.0", "claude-opus-4", "alice@example.com", sso_skill),
        world.signing(AGENT_ID),
    )
    stamp(
        repo.path,
        scim,
        _session("codex", "0.9", "gpt-5", "dave@example.com", scim_skill),
        world.signing(AGENT_ID),
    )
    stamp(
        repo.path,
        scim,
        _session("evil", "1", "m", "mallory@example.com", scim_skill),
        world.signing(MALLORY),
    )
    note = repo.git("notes", "--ref=refs/notes/provenance", "show", scim)
    repo.git(
        "notes", "--ref=refs/notes/provenance", "add", "-f", "-m", note + "\nnot json at all", scim
    )
    seen = preview(repo.path, sso, world.options(), base=base)
    approve(repo.path, seen, "approve", "checked the state handling", world.signing(BOB))
    return world


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> World:
    """The shared audited repository (read only)."""
    return build_world(tmp_path_factory.mktemp("audit-world"), dev)


def clone_world(world: World, dest: Path) -> World:
    """A private copy of the world's repository (objects, notes and all) to write into."""
    shutil.copytree(world.repo.path, dest / "repo", symlinks=True)
    index = dest / "repo" / ".git" / "provenance"
    shutil.rmtree(index, ignore_errors=True)
    return World(
        GitRepo(dest / "repo"),
        world.inst,
        world.base,
        world.sso,
        world.scim,
        world.docs,
        world.skill_digest,
    )


#: Every index test that takes ``index_db`` runs once per backend.
BACKENDS = ["sqlite", "postgresql"]


def new_index(backend: str, where: Path, request: pytest.FixtureRequest) -> IndexUrl:
    """An empty index on ``backend``: a SQLite file under ``where``, or a new PostgreSQL
    database (dropped when ``request``'s scope ends) with the schema upgraded, as an
    administrator would with ``provenance index --upgrade``."""
    if backend == "sqlite":
        return sqlite_url(where / "index.sqlite")
    from tests.postgres import create_database, drop_database

    url = create_database(request.getfixturevalue("postgres"))
    request.addfinalizer(lambda: drop_database(url))
    db = parse_index_url(url)
    upgrade_index(db)
    return db


@pytest.fixture(params=BACKENDS)
def index_db(request: pytest.FixtureRequest, tmp_path: Path) -> IndexUrl:
    """An empty index, once on SQLite and once on PostgreSQL."""
    return new_index(request.param, tmp_path, request)


def real_rows(world: World) -> list[AttestationRow]:
    """The world's verified change and approval rows, built as ingest builds them."""
    from datetime import UTC, datetime

    from provenance.app.policy_source import resolve_policy
    from provenance.gitio import Git, read_commit, resolve_commit
    from provenance.store import NotesStore
    from provenance.verify.attestation import verify_line

    git = Git.discover(world.repo.path)
    loaded = resolve_policy(git, None, resolve_commit(git, "HEAD"))
    trust = world.options().trust(loaded)
    rows = []
    for sha, lines in NotesStore(git).read_many([world.sso, world.scim]).items():
        for i, line in enumerate(lines):
            result = verify_line(i, line, read_commit(git, sha), trust)
            if result.ok:
                rows.append(
                    AttestationRow.from_result(
                        line, sha, result, verified_at=datetime.now(UTC),
                        trust_root_digest="sha256:test", policy_digest=loaded.digest,
                    )
                )  # fmt: skip
    return rows
