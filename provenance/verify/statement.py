"""Statement checks on verified payload bytes: type, subject binding, predicate schema.

Our strict checks run first (each with its own reason code); a statement that passes them
is then validated by in-toto's own bindings (``in_toto_attestation``), so nothing the
reference implementation refuses as a Statement v1 is accepted here
(``statement_malformed``). The predicate's content is our pydantic model's to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from pydantic import BaseModel, ValidationError

from provenance.predicates import PREDICATE_MODELS, STATEMENT_TYPE
from provenance.reasons import Reason
from provenance.verify.jsonstrict import StrictJSONError, loads_strict

MAX_SUBJECTS = 64
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class CheckedStatement:
    """A statement whose type, subject binding and predicate passed; decoded copy only."""

    predicate_type: str
    predicate: BaseModel
    document: dict[str, Any]


def _check_subjects(subjects: Any, expected_digest: str) -> None:
    if not isinstance(subjects, list) or not subjects:
        raise StrictJSONError(Reason.SUBJECT_MISSING, "empty or missing subject list")
    if len(subjects) > MAX_SUBJECTS:
        raise StrictJSONError(Reason.TOO_MANY_SUBJECTS, f"{len(subjects)} subjects")
    sha256s: list[str] = []
    for subject in subjects:
        if not isinstance(subject, dict) or not isinstance(subject.get("digest"), dict):
            raise StrictJSONError(Reason.SUBJECT_MISSING, "subject without digest")
        value = subject["digest"].get("sha256")
        if value is not None:
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise StrictJSONError(
                    Reason.SUBJECT_DIGEST_MALFORMED, "sha256 not 64 lowercase hex"
                )
            sha256s.append(value)
    if not sha256s:
        raise StrictJSONError(Reason.SUBJECT_DIGEST_UNSUPPORTED, "no sha256 subject digest")
    if expected_digest not in sha256s:
        raise StrictJSONError(Reason.SUBJECT_MISMATCH, "no subject digest matches the commit")


def check_statement(payload: bytes, expected_digest: str) -> CheckedStatement:
    """Validate the statement bytes against the commit's recomputed digest."""
    doc = loads_strict(payload, reason=Reason.STATEMENT_MALFORMED)
    if not isinstance(doc, dict):
        raise StrictJSONError(Reason.STATEMENT_MALFORMED, "statement is not an object")
    if doc.get("_type") != STATEMENT_TYPE:
        raise StrictJSONError(Reason.STATEMENT_TYPE_INVALID, f"_type {doc.get('_type')!r}")
    _check_subjects(doc.get("subject"), expected_digest)
    ptype = doc.get("predicateType")
    model = PREDICATE_MODELS.get(ptype) if isinstance(ptype, str) else None
    if model is None:
        raise StrictJSONError(Reason.PREDICATE_TYPE_UNKNOWN, f"predicateType {ptype!r}")
    try:
        predicate = model.model_validate(doc.get("predicate"))
    except ValidationError as e:
        raise StrictJSONError(Reason.PREDICATE_INVALID, str(e).splitlines()[0]) from e
    assert isinstance(ptype, str)
    _in_toto_check(doc, ptype)
    return CheckedStatement(predicate_type=ptype, predicate=predicate, document=doc)


def _in_toto_check(doc: dict[str, Any], predicate_type: str) -> None:
    """in-toto's own Statement v1 validation, built from the parsed document.

    The bindings hold the predicate as a protobuf ``Struct``; it gets the predicate's keys
    only (its values are the model's to check, and copying them costs ten times more).
    """
    try:
        subjects = [
            ResourceDescriptor(
                name=s.get("name", ""),
                uri=s.get("uri", ""),
                digest=s["digest"],
                download_location=s.get("downloadLocation", ""),
                media_type=s.get("mediaType", ""),
                annotations=s.get("annotations"),
            ).pb
            for s in doc["subject"]
        ]
        Statement(subjects, predicate_type, dict.fromkeys(doc["predicate"])).validate()
    except (ValueError, TypeError, AttributeError) as e:
        reason = Reason.STATEMENT_MALFORMED
        raise StrictJSONError(reason, f"not an in-toto Statement v1: {e}") from e
