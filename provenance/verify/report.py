"""The gate's verdict as a frozen value, and its renderers (renderers return strings)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from provenance.classify._model import Finding
from provenance.classify.explain import finding_to_dict, summary
from provenance.display import shown, shown_path
from provenance.verify.attestation import AttestationResult

Status = Literal["ok", "refused", "not-required"]


@dataclass(frozen=True)
class CommitVerdict:
    """Verdict for one commit."""

    commit: str
    status: Status
    reasons: tuple[str, ...]
    attestations: tuple[AttestationResult, ...] = ()
    identity_related: bool | None = None
    rules: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    #: where the identity rules fired (hunks and rules), for reviewers
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Report:
    """The whole decision; truthy only when every commit is ``ok`` or ``not-required``."""

    commits: tuple[CommitVerdict, ...]
    policy_source: str
    policy_digest: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.commits) and all(c.status != "refused" for c in self.commits)

    @property
    def result(self) -> Literal["passed", "refused"]:
        """``passed`` or ``refused``."""
        return "passed" if self else "refused"


def _attestation_json(a: AttestationResult) -> dict[str, Any]:
    return {
        "index": a.index,
        "kind": a.kind,
        "status": "ok" if a.ok else "refused",
        "reasons": list(a.reasons),
        "format": a.format,
        "signer": a.signer,
        "issuer": a.issuer,
        "signed_time": a.signed_time.isoformat() if a.signed_time else None,
        "digest": f"sha256:{a.digest}" if a.digest else None,
        "predicate_type": a.predicate_type,
        "approver": a.approver,
        **({"prompter": _prompter_json(a)} if a.prompter is not None else {}),
    }


def _prompter_json(a: AttestationResult) -> dict[str, Any]:
    """``signed`` (by whom, with the prompt attestation's digest) or ``asserted`` (and why)."""
    assert a.prompter is not None
    p = a.prompter
    claimed = (a.predicate or {}).get("prompter")
    out: dict[str, Any] = {"status": p.status, "claimed": claimed}
    if p.status == "signed":
        out |= {"identity": p.identity, "issuer": p.issuer, "person": p.person}
    else:
        out["reasons"] = list(p.reasons)
    if p.digest:
        out["prompt_attestation"] = f"sha256:{p.digest}"
    return out


def report_to_dict(report: Report) -> dict[str, Any]:
    """The documented JSON shape: result, then one entry per commit."""
    commits = []
    for c in report.commits:
        entry: dict[str, Any] = {"commit": c.commit, "status": c.status, "reasons": list(c.reasons)}
        if c.identity_related is not None:
            entry["identity_related"] = c.identity_related
            entry["rules"] = list(c.rules)
            if c.findings:
                entry["findings"] = [finding_to_dict(f) for f in c.findings]
        if c.approvers:
            entry["approvers"] = list(c.approvers)
        entry["attestations"] = [_attestation_json(a) for a in c.attestations]
        commits.append(entry)
    return {
        "result": report.result,
        "policy": {"source": report.policy_source, "digest": report.policy_digest},
        **report.extra,
        "commits": commits,
    }


def render_json(report: Report) -> str:
    """Machine output for stdout."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False)


def _prompter_text(a: AttestationResult) -> str:
    assert a.prompter is not None
    if a.prompter.status == "signed":
        return f"{a.prompter.identity} (signed)"
    return f"{(a.predicate or {}).get('prompter')} (asserted)"


def render_text(report: Report) -> str:
    """People output for stderr: one line per commit, reasons indented."""
    lines = []
    for c in report.commits:
        mark = {"ok": "OK  ", "refused": "FAIL", "not-required": "--  "}[c.status]
        signers = sorted(
            {a.signer for a in c.attestations if a.ok and a.kind == "change" and a.signer}
        )
        who = f"  signed by {shown(', '.join(signers))}" if signers and c.status == "ok" else ""
        prompters = sorted(
            {_prompter_text(a) for a in c.attestations if a.ok and a.prompter is not None}
        )
        if prompters and c.status == "ok":
            who += f"; prompted by {shown(', '.join(prompters))}"
        if c.approvers and c.status == "ok":
            who += f"; approved by {shown(', '.join(c.approvers))}"
        lines.append(f"{mark} {c.commit[:12]}{who}")
        for reason in c.reasons:
            lines.append(f"       {shown(reason)}")
        if c.findings and c.status == "refused":
            lines.append(f"       why: {summary(c.findings, shown_path)}")
    warnings = report.extra.get("warnings")
    for warning in warnings if isinstance(warnings, list) else ():
        lines.append(
            f"WARN {shown(str(warning.get('commit', ''))[:12])}  {shown(warning.get('reason', ''))}"
        )
    trust = report.extra.get("trusted_root")
    if isinstance(trust, dict):
        where = f" {shown(trust['path'])}" if trust.get("path") else ""
        digest = trust.get("digest") or "(not loaded)"
        lines.append(f"trusted root {digest} from {shown(trust['source'])}{where}")
    refused = sum(1 for c in report.commits if c.status == "refused")
    lines.append(
        f"{report.result.upper()}: {len(report.commits)} commit(s), {refused} refused"
        f" (policy {shown(report.policy_source)})"
    )
    return "\n".join(lines)
