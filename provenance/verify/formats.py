"""Machine formats of a gate report: SARIF 2.1.0 and an SLSA verification summary (VSA)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from provenance import __version__
from provenance.classify.explain import sarif_locations
from provenance.policy import POLICY_PATH
from provenance.predicates import PREDICATE_NAMESPACE
from provenance.reasons import Reason
from provenance.sign.statement import encode_statement
from provenance.verify.report import CommitVerdict, Report

VSA_PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = f"{PREDICATE_NAMESPACE}/verifier"
#: The property a passing VSA asserts (a custom level, as the VSA spec allows).
VERIFIED_LEVEL = "PROVENANCE_IDENTITY_CHANGES_ATTESTED_V1"


#: Where a refusal without identity-related paths is shown: the file that decides.
_FALLBACK_PATH = POLICY_PATH
#: At most this many further paths of one commit are listed as related locations.
_RELATED_PATHS = 20


def _sarif(
    reasons: Sequence[str],
    results: list[dict[str, Any]],
    properties: dict[str, Any],
    invocation: dict[str, Any],
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
    run = {
        "tool": {"driver": driver},
        "invocations": [invocation],
        "results": results,
        "properties": properties,
    }
    return json.dumps(
        {
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [run],
        },
        indent=2,
    )


def _location(path: str, index: int | None = None) -> dict[str, Any]:
    """A SARIF location of a repository path (percent-encoded, relative to the checkout).

    GitHub code scanning rejects results without a location; a commit has no line of its
    own, so a refusal points at the start of each identity-related file it changed.
    """
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 1},
        }
    }
    return location | ({"id": index} if index is not None else {})


def _locations(paths: Sequence[str]) -> dict[str, Any]:
    """``locations`` (the first path, else the policy file) and ``relatedLocations``."""
    first, *rest = [*paths] or [_FALLBACK_PATH]
    out: dict[str, Any] = {"locations": [_location(first)]}
    if rest:
        out["relatedLocations"] = [
            _location(path, n) for n, path in enumerate(rest[:_RELATED_PATHS], start=1)
        ]
    return out


def _result_locations(c: CommitVerdict) -> dict[str, Any]:
    """Where a refusal points: the hunks whose rules fired (issue 16), else the start of each
    identity-related file; always relative to the checkout, always with a region."""
    out = _locations(c.paths)
    if c.findings:
        found = sarif_locations(c.findings)
        for loc in found:
            physical = loc["physicalLocation"]
            uri = quote(physical["artifactLocation"]["uri"], safe="/")
            physical["artifactLocation"] = {"uri": uri, "uriBaseId": "%SRCROOT%"}
            physical.setdefault("region", {"startLine": 1})
        out["locations"] = found
    return out


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
            **_result_locations(c),
            "partialFingerprints": {"commit": c.commit},
            "properties": {"commit": c.commit, "rules": list(c.rules)},
        }
        for c in report.commits
        for reason in c.reasons
    ]
    policy = {"source": report.policy_source, "digest": report.policy_digest}
    reasons = sorted({r for c in report.commits for r in c.reasons})
    invocation = {"executionSuccessful": True, "exitCode": 0 if report else 1}
    properties = {"result": report.result, **report.extra, "policy": policy}
    return _sarif(reasons, results, properties, invocation)


def render_refusal_sarif(reason: str, message: str) -> str:
    """SARIF for a gate that refused before any commit was judged (e.g. ``range_empty``)."""
    result = {
        "ruleId": reason,
        "level": "error",
        "message": {"text": message},
        **_locations(()),
    }
    invocation = {"executionSuccessful": True, "exitCode": 1}
    return _sarif([reason], [result], {"result": "refused"}, invocation)


def render_error_sarif(message: str, hint: str | None, exit_code: int) -> str:
    """SARIF for a gate that could not decide (exit 3) or was called wrongly (exit 2).

    No results (nothing was judged); the invocation failed, with the error as its
    notification, so code scanning shows the tool failed instead of "no alerts".
    """
    text = f"{message} (hint: {hint})" if hint else message
    invocation = {
        "executionSuccessful": False,
        "exitCode": exit_code,
        "toolExecutionNotifications": [{"level": "error", "message": {"text": text}}],
    }
    return _sarif([], [], {"result": "error", "exit_code": exit_code}, invocation)


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
