"""What the agent wrapper knows about a session, resolved once before anything runs or signs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from provenance.app.stamp import Preparer, work_tree
from provenance.errors import UsageError
from provenance.gitio import Git
from provenance.predicates import PromptCommitment, StoredPrompt
from provenance.record.capture import read_salt, repository_salt, stored_prompt
from provenance.record.change import (
    SessionContext,
    parse_agent,
    prompt_from_digest,
    prompt_from_text,
    skill_package,
)


@dataclass(frozen=True)
class CaptureOptions:
    """The agent, prompt and skill options shared by ``stamp`` and ``run``."""

    agent: str
    model: str
    prompter: str
    prompt_file: Path | None = None
    prompt_digest: str | None = None
    session_id: str | None = None
    skills: tuple[str, ...] = ()
    salt_file: Path | None = None
    salted: bool = False
    store_prompt: bool = False


def _commitment(git: Git, opts: CaptureOptions, data: bytes | None) -> PromptCommitment:
    if data is None:
        if opts.salt_file or opts.salted:
            raise UsageError("a salted commitment needs the prompt: give --prompt-file")
        return prompt_from_digest(str(opts.prompt_digest))
    if opts.salt_file and opts.salted:
        raise UsageError("give --prompt-salt-file or --salted, not both")
    if opts.salt_file:
        return prompt_from_text(data, read_salt(opts.salt_file, work_tree(git)))
    if opts.salted:
        _, salt = repository_salt(Preparer(git).repository("HEAD"), work_tree(git))
        return prompt_from_text(data, salt)
    return prompt_from_text(data)


def build_session(repo: Path, opts: CaptureOptions) -> SessionContext:
    """Read and check everything now: prompt, salt, secret scan, skills (nothing is signed)."""
    if (opts.prompt_file is None) == (opts.prompt_digest is None):
        raise UsageError("give exactly one of --prompt-file and --prompt-digest")
    if opts.store_prompt and opts.prompt_file is None:
        raise UsageError("--store-prompt needs --prompt-file")
    git = Git.discover(repo)
    tool, version = parse_agent(opts.agent)
    data: bytes | None = None
    if opts.prompt_file is not None:
        try:
            data = opts.prompt_file.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {opts.prompt_file}: {e.strerror}") from e
    kept: StoredPrompt | None = None
    if opts.store_prompt and data is not None:
        kept = stored_prompt(data)
    return SessionContext(
        tool=tool,
        tool_version=version,
        model=opts.model,
        prompter=opts.prompter,
        prompt=_commitment(git, opts, data),
        session_id=opts.session_id,
        skills=tuple(skill_package(s) for s in opts.skills),
        stored_prompt=kept,
    )
