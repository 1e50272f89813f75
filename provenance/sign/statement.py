"""Build in-toto Statement v1 bytes for a commit; the subject binds the raw commit object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rfc8785
from pydantic import BaseModel

from provenance.gitio import Commit
from provenance.predicates import STATEMENT_TYPE


@dataclass(frozen=True)
class SignedLine:
    """One stored attestation line plus who signed it."""

    line: bytes
    signer: str
    issuer: str | None


def commit_subject(commit: Commit, repository: str) -> dict[str, Any]:
    """The subject: sha256 of ``commit <len>\\0<raw>``, git ids as annotations (not trusted)."""
    return {
        "name": f"git-commit:{commit.sha}",
        "digest": {"sha256": commit.digest},
        "annotations": {"gitCommit": commit.sha, "gitTree": commit.tree, "repository": repository},
    }


def build_statement(
    commit: Commit, repository: str, predicate_type: str, predicate: BaseModel
) -> bytes:
    """RFC 8785 canonical JSON of the statement: the exact bytes that get signed."""
    statement: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [commit_subject(commit, repository)],
        "predicateType": predicate_type,
        "predicate": predicate.model_dump(mode="json", exclude_none=True),
    }
    encoded: bytes = rfc8785.dumps(statement)
    return encoded


def build_prompt_statement(predicate_type: str, predicate: BaseModel, commitment: str) -> bytes:
    """A prompt attestation's statement: its subject is the prompt commitment's digest.

    Signed before any commit exists, so it names the prompt, not a commit; the change
    attestations of the session carry it and the verifier binds the two (THREATS.md G50).
    """
    statement: dict[str, Any] = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "prompt", "digest": {"sha256": commitment}}],
        "predicateType": predicate_type,
        "predicate": predicate.model_dump(mode="json", exclude_none=True),
    }
    encoded: bytes = rfc8785.dumps(statement)
    return encoded
