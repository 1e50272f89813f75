"""Machine formats of a gate report: SARIF 2.1.0 and an SLSA verification summary (VSA)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from provenance import __version__
from provenance.classify.explain import sarif_locations
from provenance.predicates import PREDICATE_NAMESPACE
from provenance.reasons import Reason
from provenance.sign.statement import encode_statement
from provenance.verify.report import Report

VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = f"{PREDICATE_NAMESPACE}/verifier"
#: The property a passing VSA asserts (a custom level, as the VSA spec allows).
VERIFIED_LEVEL = "PROVENANCE_IDENTITY_CHANGES_ATTESTED_V1"


def _sarif(
    reasons: Sequence[str], results: list[dict[str, Any]], properties: dict[str, Any]
) -> str:
    """One SARIF 2.1.0 run whose rules are the reason codes used."""
    known = {r.value for r in Reason}
    rules = [
        {
            "id": r,
            "shortDescription": {"text": r.replace("_", " ")},
            "properties": {"known": r in known},
        }
        for r in reasons
    ]
    driver = {
        "name": "provenance",
        "version": __version__,
        "informationUri": VERIFIER_ID,
        "rules": rules,
    }
    run = {"tool": {"driver": driver}, "results": results, "properties": properties}
    return json.dumps(
        {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        },
        indent=2,
    )


def render_sarif(report: Report) -> str:
    """One SARIF result per refused commit and reason; rule ids are reason codes."""
    results = [
        {
            "ruleId": reason,
            "level": "error",
            "message": {
                "text": f"commit {c.commit} refused: {reason}"
                + (f" (identity rules: {', '.join(c.rules)})" if c.rules else "")
            },
            "partialFingerprints": {"commit": c.commit},
            "properties": {"commit": c.commit, "rules": list(c.rules)},
            **({"locations": sarif_locations(c.findings)} if c.findings else {}),
        }
        for c in report.commits
        for reason in c.reasons
    ]
    policy = {"source": report.policy_source, "digest": report.policy_digest}
    reasons = sorted({r for c in report.commits for r in c.reasons})
    return _sarif(reasons, results, {"result": report.result, **report.extra, "policy": policy})


def render_refusal_sarif(reason: str, message: str) -> str:
    """SARIF for a gate that refused before any commit was judged (e.g. ``range_empty``)."""
    result = {"ruleId": reason, "level": "error", "message": {"text": message}}
    return _sarif([reason], [result], {"result": "refused"})


def build_vsa(report: Report, *, repository: str, head_digest: str) -> bytes:
    """An in-toto Statement v1 carrying an SLSA VSA for the exact HEAD commit verified."""
    head = report.range.head if report.range else ""
    inputs = [
        {
            "uri": f"git+{repository}@{c.commit}#attestation-{a.index}",
            "digest": {"sha256": a.digest},
        }
        for c in report.commits
        for a in c.attestations
        if a.ok and a.digest
    ]
    policy_digest = report.policy_digest.removeprefix("sha256:")
    predicate_extra: dict[str, Any] = {}
    trust = report.trusted_root
    if trust is not None:  # which root decided (G51), as a resource descriptor
        root: dict[str, Any] = {"name": trust["source"]}
        if trust.get("path"):
            root["uri"] = trust["path"]
        if trust.get("digest"):
            root["digest"] = {"sha256": str(trust["digest"]).removeprefix("sha256:")}
        predicate_extra["trustedRoot"] = root
    subject = {
        "name": f"git+{repository}@{head}",
        "digest": {"sha256": head_digest},
        "annotations": {
            "gitCommit": head,
            "gitTree": report.range.head_tree if report.range else "",
            "base": report.range.base if report.range else "",
        },
    }
    predicate = {
        "verifier": {"id": VERIFIER_ID, "version": {"provenance": __version__}},
        "timeVerified": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "resourceUri": f"git+{repository}@{head}",
        "policy": {"uri": report.policy_source, "digest": {"sha256": policy_digest}},
        "inputAttestations": inputs,
        "verificationResult": "PASSED" if report else "FAILED",
        "verifiedLevels": [VERIFIED_LEVEL] if report else [],
        **predicate_extra,
    }
    return encode_statement([subject], VSA_PREDICATE_TYPE, predicate)


def vsa_digest(statement: bytes) -> str:
    """``sha256:`` digest of VSA statement bytes."""
    return "sha256:" + hashlib.sha256(statement).hexdigest()
