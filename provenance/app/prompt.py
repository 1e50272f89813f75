"""Prompt attestations: the prompter signs the prompt with their own identity (THREATS.md G50).

``provenance prompt sign`` (before a CI-triggered agent runs) and ``provenance run
--prompter-sign`` (when the session starts) produce one; ``run`` and ``stamp`` carry it into
every change predicate of the session (``--prompt-attestation FILE``), where the gate checks
it (``provenance.verify.prompt``). Keyless signing needs the prompter's own token (never an
ambient CI credential: a CI certificate names the workflow, not the human) or their key.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from provenance.app.session import CaptureOptions, build_session
from provenance.app.stamp import Preparer
from provenance.errors import UsageError
from provenance.gitio import Git
from provenance.policy import is_ci_issuer
from provenance.predicates import (
    PROMPT_PREDICATE_TYPE,
    STATEMENT_TYPE,
    PromptAttestationRef,
    PromptCommitment,
    PromptPredicate,
    RepositoryRef,
)
from provenance.record.change import SessionContext
from provenance.sign.signing import SigningOptions, sign
from provenance.verify.envelope import parse_line
from provenance.verify.jsonstrict import StrictJSONError, loads_strict
from provenance.verify.prompt import MAX_PROMPT_VALIDITY

DEFAULT_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True)
class SignedPrompt:
    """A prompt attestation line and who signed it."""

    line: bytes
    digest: str
    signer: str
    issuer: str | None
    expires_at: datetime


def prompt_commitment(repo: Path, prompter: str, options: CaptureOptions) -> PromptCommitment:
    """The commitment the wrapper will compute for the same prompt (same rules, same salt)."""
    filled = replace(options, agent=options.agent or "prompt", model=options.model or "-")
    return build_session(repo, replace(filled, prompter=prompter)).prompt


def _check_signing(signing: SigningOptions) -> None:
    """The prompter's own credential only: no ambient CI detection, no CI workload issuer."""
    from provenance.sign import token_issuer

    if signing.key:
        return
    if not signing.identity_token:
        raise UsageError(
            "a prompt attestation needs the prompter's own credential",
            hint="pass the prompter's OIDC token (@FILE) or key; an ambient CI credential "
            "names the workflow, not the person",
        )
    issuer = token_issuer(signing.identity_token)
    if is_ci_issuer(issuer):
        raise UsageError(
            f"{issuer} issues CI workload identities: the certificate would name the "
            "workflow, not the person who prompted",
            hint="sign as yourself (provenance prompt sign on your machine), then hand the "
            "file to the pipeline",
        )


def sign_prompt(
    repo: Path,
    *,
    prompter: str,
    commitment: PromptCommitment,
    signing: SigningOptions,
    session_id: str | None = None,
    valid_for: timedelta = DEFAULT_VALIDITY,
) -> SignedPrompt:
    """Sign a prompt attestation for a session in ``repo``'s repository."""
    if not timedelta(0) < valid_for <= MAX_PROMPT_VALIDITY:
        raise UsageError(f"a prompt attestation is valid for at most {MAX_PROMPT_VALIDITY}")
    _check_signing(signing)
    from provenance.sign import build_prompt_statement

    now = datetime.now(UTC)
    predicate = PromptPredicate(
        prompter=prompter,
        prompt=commitment,
        repository=RepositoryRef(uri=Preparer(Git.discover(repo)).repository("HEAD")),
        session_id=session_id,
        nonce=secrets.token_hex(32),
        issued_at=now,
        expires_at=now + valid_for,
    )
    statement = build_prompt_statement(PROMPT_PREDICATE_TYPE, predicate, commitment.digest)
    signed = sign(statement, signing)
    return SignedPrompt(
        line=signed.line,
        digest=f"sha256:{hashlib.sha256(statement).hexdigest()}",
        signer=signed.signer,
        issuer=signed.issuer,
        expires_at=predicate.expires_at,
    )


def _prompt_of(line: bytes) -> tuple[str, PromptPredicate]:
    """(payload digest, predicate) of a prompt attestation line, checked for shape only."""
    try:
        parsed = parse_line(line.strip())
        statement = loads_strict(parsed.payload)
    except StrictJSONError as e:
        raise UsageError(f"not a usable prompt attestation ({e.reason.value}): {e}") from e
    if (
        not isinstance(statement, dict)
        or statement.get("_type") != STATEMENT_TYPE
        or statement.get("predicateType") != PROMPT_PREDICATE_TYPE
    ):
        raise UsageError("not a prompt attestation (provenance prompt sign writes one)")
    try:
        predicate = PromptPredicate.model_validate(statement.get("predicate"))
    except ValueError as e:
        raise UsageError(f"the prompt attestation's predicate is invalid: {e}") from e
    return hashlib.sha256(parsed.payload).hexdigest(), predicate


def attach_prompt(repo: Path, session: SessionContext, line: bytes) -> SessionContext:
    """The session, carrying ``line``; refused early when it cannot bind this session.

    The gate decides (signature, allowed prompter); this only stops a run that would stamp
    commits with a prompt attestation for another prompt, repository, session or time.
    """
    digest, prompt = _prompt_of(line)
    if prompt.prompt.model_dump() != session.prompt.model_dump():
        raise UsageError("the prompt attestation commits to another prompt (or salt)")
    repository = Preparer(Git.discover(repo)).repository("HEAD")
    if prompt.repository.uri != repository:
        raise UsageError(
            f"the prompt attestation is for {prompt.repository.uri}, not {repository}",
            hint="set `repository` in the policy so every clone names it the same way",
        )
    if prompt.expires_at <= datetime.now(UTC):
        raise UsageError(f"the prompt attestation expired at {prompt.expires_at.isoformat()}")
    session_id = session.session_id or prompt.session_id
    if prompt.session_id is not None and prompt.session_id != session_id:
        raise UsageError(f"the prompt attestation is for session {prompt.session_id!r}")
    ref = PromptAttestationRef(sha256=digest, line=line.strip().decode("utf-8"))
    return replace(session, session_id=session_id, prompt_attestation=ref)


def prompter_session(
    repo: Path,
    session: SessionContext,
    *,
    sign_with: SigningOptions | None = None,
    attestation: Path | None = None,
) -> SessionContext:
    """``--prompter-sign`` (sign now, as the prompter) or ``--prompt-attestation FILE``."""
    if sign_with is not None and attestation is not None:
        raise UsageError("give --prompter-sign or --prompt-attestation, not both")
    if attestation is not None:
        try:
            line = attestation.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {attestation}: {e.strerror}") from e
        return attach_prompt(repo, session, line)
    if sign_with is None:
        return session
    session = replace(session, session_id=session.session_id or f"prov-{uuid.uuid4()}")
    signed = sign_prompt(
        repo,
        prompter=session.prompter,
        commitment=session.prompt,
        signing=sign_with,
        session_id=session.session_id,
    )
    return attach_prompt(repo, session, signed.line)
