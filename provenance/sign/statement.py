"""Build in-toto Statement v1 bytes for a commit; the subject binds the raw commit object.

Statements are built and validated with in-toto's own bindings (``in_toto_attestation``:
``Statement``, ``ResourceDescriptor``), then serialised with RFC 8785 so the same record
always gives the same bytes. The predicate is written exactly as its pydantic model dumps it:
the bindings hold it as a protobuf ``Struct``, whose numbers are doubles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rfc8785
from google.protobuf import json_format
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from pydantic import BaseModel

from provenance.errors import RecordError
from provenance.gitio import Commit


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


def encode_statement(
    subjects: list[dict[str, Any]], predicate_type: str, predicate: dict[str, Any]
) -> bytes:
    """RFC 8785 bytes of a Statement v1 that in-toto's bindings built and validated."""
    try:
        descriptors = [
            ResourceDescriptor(
                name=s.get("name", ""), digest=s.get("digest"), annotations=s.get("annotations")
            ).pb
            for s in subjects
        ]
        statement = Statement(descriptors, predicate_type, predicate)
        statement.validate()
    except (ValueError, TypeError) as e:
        raise RecordError(f"not a valid in-toto Statement v1: {e}") from e
    document: dict[str, Any] = json_format.MessageToDict(statement.pb)
    document["predicate"] = predicate  # exactly the model's JSON, not the Struct's doubles
    encoded: bytes = rfc8785.dumps(document)
    return encoded


def build_statement(
    commit: Commit, repository: str, predicate_type: str, predicate: BaseModel
) -> bytes:
    """The statement about ``commit``: the exact bytes that get signed."""
    body = predicate.model_dump(mode="json", exclude_none=True)
    return encode_statement([commit_subject(commit, repository)], predicate_type, body)


def build_prompt_statement(predicate_type: str, predicate: BaseModel, commitment: str) -> bytes:
    """A prompt attestation's statement: its subject is the prompt commitment's digest.

    Signed before any commit exists, so it names the prompt, not a commit; the change
    attestations of the session carry it and the verifier binds the two (THREATS.md G50).
    """
    body = predicate.model_dump(mode="json", exclude_none=True)
    subject = {"name": "prompt", "digest": {"sha256": commitment}}
    return encode_statement([subject], predicate_type, body)


__all__ = [
    "SignedLine",
    "build_prompt_statement",
    "build_statement",
    "commit_subject",
    "encode_statement",
]
