"""Build the change predicate for one commit from git and the agent session's context."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from provenance.classify.configured import Classification
from provenance.errors import RecordError, UsageError
from provenance.gitio import Commit, Git
from provenance.gitio.stream import diff_against
from provenance.predicates import (
    Agent,
    ChangedPath,
    ChangePredicate,
    ClassifierInfo,
    CommitRef,
    PromptAttestationRef,
    PromptCommitment,
    RepositoryRef,
    ResourceDescriptor,
    SessionInfo,
    StoredPrompt,
)
from provenance.record.capture import skill_metadata

_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_NAME_VERSION = re.compile(r"^(?P<name>[^@\s]+)@(?P<version>[^@\s]+)$")


@dataclass(frozen=True)
class SessionContext:
    """What the agent wrapper knows about the session that produced a commit."""

    tool: str
    tool_version: str | None
    model: str
    prompter: str
    prompt: PromptCommitment
    session_id: str | None = None
    skills: tuple[ResourceDescriptor, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_status: int | None = None
    stored_prompt: StoredPrompt | None = None
    #: The prompter's signed prompt attestation, carried into every change predicate (G50).
    prompt_attestation: PromptAttestationRef | None = None

    def session_info(self) -> SessionInfo | None:
        """The session block of the predicate, when the wrapper observed the session."""
        if self.started_at is None and self.ended_at is None and self.exit_status is None:
            return None
        return SessionInfo(
            started_at=self.started_at, ended_at=self.ended_at, exit_status=self.exit_status
        )


def parse_agent(spec: str) -> tuple[str, str | None]:
    """``TOOL[@VERSION]`` -> (tool, version)."""
    tool, _, version = spec.partition("@")
    if not tool:
        raise UsageError(f"--agent {spec!r}: expected TOOL[@VERSION]")
    return tool, version or None


def prompt_from_text(data: bytes, salt: bytes | None = None) -> PromptCommitment:
    """Commit to a prompt: sha256, or HMAC-SHA256 with a per-repository salt."""
    if salt is None:
        return PromptCommitment(algorithm="sha256", digest=hashlib.sha256(data).hexdigest())
    salt_id = hashlib.sha256(b"provenance-salt-id\x00" + salt).hexdigest()[:16]
    mac = hmac.new(salt, data, hashlib.sha256).hexdigest()
    return PromptCommitment(algorithm="hmac-sha256", digest=mac, salt_id=salt_id)


def prompt_from_digest(spec: str) -> PromptCommitment:
    """``sha256:HEX`` (lowercase, 64 digits) -> commitment."""
    m = _DIGEST.match(spec)
    if not m:
        raise UsageError(f"--prompt-digest {spec!r}: expected sha256:<64 lowercase hex digits>")
    return PromptCommitment(algorithm="sha256", digest=m.group(1))


def directory_digest(root: Path) -> str:
    """Deterministic sha256 over a directory: sorted relative paths, modes, content digests.

    Each regular file or symlink (``.git`` directories skipped, symlinks never followed)
    contributes ``<kind> <mode> <sha256(content or link target)> <path>\\0``, with ``kind``
    f(ile) or l(ink), ``mode`` 755 (any execute bit) or 644 for files and 120000 for links,
    and ``path`` relative, ``/``-separated, as UTF-8 bytes. The entries are sorted as bytes
    and hashed together; timestamps, owners, walk order and empty directories never matter.
    """
    entries: list[bytes] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            full = Path(dirpath) / name
            rel = full.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
            st = full.lstat()
            if stat.S_ISLNK(st.st_mode):
                kind, mode, content = b"l", b"120000", os.readlink(full).encode()
            else:
                kind, content = b"f", full.read_bytes()
                mode = b"755" if st.st_mode & 0o111 else b"644"
            h = hashlib.sha256(content).hexdigest().encode()
            entries.append(kind + b" " + mode + b" " + h + b" " + rel + b"\x00")
    return hashlib.sha256(b"".join(sorted(entries))).hexdigest()


def skill_descriptor(spec: str) -> ResourceDescriptor:
    """``PATH`` (a skill directory, digested) or ``NAME@VERSION`` (recorded as given)."""
    path = Path(spec)
    if path.is_dir():
        return ResourceDescriptor(
            name=path.resolve().name,
            uri=f"file:{path.as_posix()}",
            digest={"sha256": directory_digest(path)},
        )
    m = _NAME_VERSION.match(spec)
    if not m:
        raise UsageError(f"--skill {spec!r}: expected a directory or NAME@VERSION")
    return ResourceDescriptor(name=m.group("name"), version=m.group("version"))


def skill_package(spec: str) -> ResourceDescriptor:
    """:func:`skill_descriptor`, with name and version from ``SKILL.md`` front matter if any."""
    desc = skill_descriptor(spec)
    path = Path(spec)
    if not path.is_dir():
        return desc
    name, version = skill_metadata(path)
    return desc.model_copy(update={"name": name or desc.name, "version": version})


def changed_paths(git: Git, commit: Commit, classification: Classification) -> list[ChangedPath]:
    """Paths changed against each parent (merges: every parent), with classifier verdicts."""
    seen: dict[tuple[str, str], ChangedPath] = {}
    for parent in commit.parents or (None,):
        for change in diff_against(git, commit.sha, parent):
            key = (change.old_path, change.path)
            rules = sorted(set(classification.classify(change)))
            if key in seen:
                rules = sorted(set(rules) | set(seen[key].rules))
            seen[key] = ChangedPath(
                path=change.path,
                old_path=change.old_path if change.old_path != change.path else None,
                status=change.status,
                rules=rules,
            )
    return list(seen.values())


def build_change_predicate(
    git: Git,
    commit: Commit,
    session: SessionContext,
    *,
    repository: str,
    classification: Classification,
    agent_config: Sequence[ResourceDescriptor] = (),
    now: datetime | None = None,
) -> ChangePredicate:
    """The change predicate of ARCHITECTURE.md for ``commit``."""
    try:
        changes = changed_paths(git, commit, classification)
    except RecordError:
        raise
    return ChangePredicate(
        agent=Agent(
            tool=session.tool,
            version=session.tool_version,
            model=session.model,
            session_id=session.session_id,
        ),
        prompter=session.prompter,
        prompt=session.prompt,
        skills=list(session.skills),
        agent_config=list(agent_config),
        repository=RepositoryRef(uri=repository),
        commit=CommitRef(sha=commit.sha, tree=commit.tree, parents=list(commit.parents)),
        changes=changes,
        classifier=ClassifierInfo(
            version=classification.version,
            ruleset_digest=classification.ruleset_digest,
            identity_related=any(c.rules for c in changes),
        ),
        stamped_at=now or datetime.now(UTC),
        session=session.session_info(),
        stored_prompt=session.stored_prompt,
        prompt_attestation=session.prompt_attestation,
    )
