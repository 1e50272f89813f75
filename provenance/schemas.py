"""JSON Schemas generated from the models; `scripts/gen-schemas` rewrites schemas/ with them.

The predicates and the policy describe what we sign and read; the documents
(:mod:`provenance.documents`) describe what we write for programs: the gate's JSON report,
``run --report`` and an evidence pack's manifest. The wheel ships ``schemas/`` as
``provenance/_schemas/`` (pyproject ``force-include``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from provenance.documents import EvidenceManifest, GateReportDocument, RunReportDocument
from provenance.policy import Policy
from provenance.predicates import (
    APPROVAL_PREDICATE_TYPE,
    CHANGE_PREDICATE_TYPE,
    LINK_PREDICATE_TYPE,
    PREDICATE_NAMESPACE,
    PROMPT_PREDICATE_TYPE,
    ApprovalPredicate,
    ChangePredicate,
    LinkPredicate,
    PromptPredicate,
)
from provenance.revocations import Revocations

#: Where the documents' schema ids live (the predicates' namespace is for attestations).
DOCUMENT_NAMESPACE = "https://provenance.dev/schemas"

SCHEMAS: dict[str, tuple[str, type[BaseModel]]] = {
    "change-predicate.v1.json": (CHANGE_PREDICATE_TYPE, ChangePredicate),
    "approval-predicate.v1.json": (APPROVAL_PREDICATE_TYPE, ApprovalPredicate),
    "prompt-predicate.v1.json": (PROMPT_PREDICATE_TYPE, PromptPredicate),
    "link-predicate.v1.json": (LINK_PREDICATE_TYPE, LinkPredicate),
    "policy.v1.json": (f"{PREDICATE_NAMESPACE}/policy/v1", Policy),
    "revocations.v1.json": (f"{PREDICATE_NAMESPACE}/revocations/v1", Revocations),
    "gate-report.v1.json": (f"{DOCUMENT_NAMESPACE}/gate-report/v1", GateReportDocument),
    "run-report.v1.json": (f"{DOCUMENT_NAMESPACE}/run-report/v1", RunReportDocument),
    "evidence-manifest.v1.json": (
        f"{DOCUMENT_NAMESPACE}/evidence-manifest/v1",
        EvidenceManifest,
    ),
}


def render(schema_id: str, model: type[BaseModel]) -> str:
    """The schema text for one model, with its ``$id``, stable and newline-terminated."""
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        **model.model_json_schema(mode="validation"),
    }
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def generate(out_dir: Path) -> list[Path]:
    """Write every schema into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (schema_id, model) in SCHEMAS.items():
        path = out_dir / name
        path.write_text(render(schema_id, model))
        written.append(path)
    return written
