"""The gate's verdict as a frozen value, and its renderers (renderers return strings)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

from provenance.classify._model import Finding
from provenance.classify.explain import finding_to_dict, summary
from provenance.display import shown, shown_path
from provenance.predicates import ChangePredicate
from provenance.reasons import Reason
from provenance.revocations import Revocation
from provenance.verify.attestation import AttestationResult

Status = Literal["ok", "refused", "not-required"]


@dataclass(frozen=True)
class CommitVerdict:
    """Verdict for one commit."""

    commit: str
    status: Status
    reasons: tuple[Reason, ...]
    attestations: tuple[AttestationResult, ...] = ()
    identity_related: bool | None = None
    rules: tuple[str, ...] = ()
    approvers: tuple[str, ...] = ()
    #: where the identity rules fired (hunks and rules), for reviewers
    findings: tuple[Finding, ...] = ()
    #: The AI trailers a trailer refusal is about, as written (``Assisted-by: codex:gpt-5``).
    trailers: tuple[str, ...] = ()
    #: how a commit without its own evidence passed (``squash of a1b2..c3d4``), and its sources
    via: str | None = None
    sources: tuple[str, ...] = ()
    #: the identity-related paths (where the commit's rules fired)
    paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class RangeInfo:
    """The range a gate decided: its ends, and the tree the build must be of."""

    base: str
    head: str
    head_tree: str


@dataclass(frozen=True)
class TrailerWarning:
    """AI trailers and the attestations disagree (policy ``[trailers]`` mode ``warn``)."""

    commit: str
    reason: Reason
    trailers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """The whole decision; truthy only when every commit is ``ok`` or ``not-required``.

    ``policy_from`` says who chose the policy: ``BASE`` (a range), ``HEAD`` (single commits
    without ``--policy``) or ``--policy``. ``trusted_root`` names the root that decided (G51);
    ``evidence`` describes the pack a ``verify --evidence`` decided from.
    """

    commits: tuple[CommitVerdict, ...]
    policy_source: str
    policy_digest: str
    policy_from: str | None = None
    range: RangeInfo | None = None
    warnings: tuple[TrailerWarning, ...] = ()
    trusted_root: dict[str, str | None] | None = None
    evidence: dict[str, Any] | None = None
    #: The revocations file that decided with the policy: source, digest, entries.
    revocations: dict[str, Any] | None = None

    def __bool__(self) -> bool:
        return bool(self.commits) and all(c.status != "refused" for c in self.commits)

    @property
    def result(self) -> Literal["passed", "refused"]:
        """``passed`` or ``refused``."""
        return "passed" if self else "refused"

    @property
    def extra(self) -> dict[str, Any]:
        """The report's context as the JSON shows it: range, warnings, trusted root, evidence."""
        out: dict[str, Any] = {}
        if self.range is not None:
            out["range"] = asdict(self.range)
        if self.warnings:
            out["warnings"] = [
                {"commit": w.commit, "reason": w.reason, **({"trailers": list(w.trailers)}
                                                            if w.trailers else {})}
                for w in self.warnings
            ]  # fmt: skip
        if self.trusted_root is not None:
            out["trusted_root"] = self.trusted_root
        if self.evidence is not None:
            out["evidence"] = self.evidence
        return out


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
        **({"revoked": [revoked_json(r) for r in a.revoked]} if a.revoked else {}),
    }


def revoked_json(r: Revocation) -> dict[str, Any]:
    """A revocation entry as reports name it: id, cause, window, reason, reference."""
    return {
        "id": r.id,
        "cause": r.cause,
        "value": getattr(r, r.cause),
        "from": r.from_.isoformat() if r.from_ else None,
        "until": r.until.isoformat() if r.until else None,
        "reason": r.reason,
        "reference": r.reference,
    }


def _prompter_json(a: AttestationResult) -> dict[str, Any]:
    """``signed`` (by whom, with the prompt attestation's digest) or ``asserted`` (and why)."""
    assert a.prompter is not None
    p = a.prompter
    claimed = a.predicate.prompter if isinstance(a.predicate, ChangePredicate) else None
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
            entry["paths"] = list(c.paths)
        if c.approvers:
            entry["approvers"] = list(c.approvers)
        if c.trailers:
            entry["trailers"] = list(c.trailers)
        if c.via is not None:
            entry["via"] = c.via
            entry["sources"] = list(c.sources)
        entry["attestations"] = [_attestation_json(a) for a in c.attestations]
        commits.append(entry)
    policy: dict[str, Any] = {"source": report.policy_source, "digest": report.policy_digest}
    if report.policy_from is not None:
        policy["from"] = report.policy_from
    if report.revocations is not None:
        policy["revocations"] = report.revocations
    return {"result": report.result, "policy": policy, **report.extra, "commits": commits}


def render_json(report: Report) -> str:
    """Machine output for stdout."""
    return json.dumps(report_to_dict(report), indent=2, sort_keys=False)


def _prompter_text(a: AttestationResult) -> str:
    assert a.prompter is not None
    if a.prompter.status == "signed":
        return f"{a.prompter.identity} (signed)"
    claimed = a.predicate.prompter if isinstance(a.predicate, ChangePredicate) else None
    return f"{claimed} (asserted)"


def _chosen_by(report: Report) -> str:
    """Who chose the policy, said when it was not the range's BASE."""
    if report.policy_from in (None, "BASE"):
        return ""
    return f", chosen by {report.policy_from}"


def _evidence_lines(info: dict[str, Any]) -> list[str]:
    """The pack a verdict came from and how old its trusted root is (``verify --evidence``)."""
    root = info["trusted_root"]
    return [
        f"evidence {shown(info['pack'])} (exported {shown(info['created_at'])}); "
        f"policy {shown(info['policy_digest'])}",
        f"trusted root {shown(root['digest'])}: captured {shown(root['captured_at'])} "
        f"({root['age_days']} days ago); newest key valid since {root['newest_key_since']} "
        f"({root['newest_key_age_days']} days); {root['expired_keys']} expired key(s)",
    ]


def render_text(report: Report) -> str:
    """People output: one line per commit, reasons indented, the root, the verdict."""
    lines = _evidence_lines(report.evidence) if report.evidence is not None else []
    for c in report.commits:
        mark = {"ok": "OK  ", "refused": "FAIL", "not-required": "--  "}[c.status]
        signers = sorted(
            {a.signer for a in c.attestations if a.ok and a.kind == "change" and a.signer}
        )
        passed = c.status != "refused"
        who = f"  signed by {shown(', '.join(signers))}" if signers and passed else ""
        prompters = sorted(
            {_prompter_text(a) for a in c.attestations if a.ok and a.prompter is not None}
        )
        if prompters and passed:
            who += f"; prompted by {shown(', '.join(prompters))}"
        if c.approvers and c.status == "ok":
            who += f"; approved by {shown(', '.join(c.approvers))}"
        via = f" ({shown(c.via)})" if c.via is not None else ""
        lines.append(f"{mark} {c.commit[:12]}{via}{who}")
        for reason in c.reasons:
            lines.append(f"       {shown(reason)}")
        if c.findings and c.status == "refused":
            lines.append(f"       why: {summary(c.findings, shown_path)}")
        for trailer in c.trailers:
            lines.append(f"       trailer {shown(trailer)}")
        for r in dict.fromkeys(r for a in c.attestations for r in a.revoked):
            where = f" ({shown(r.reference)})" if r.reference else ""
            lines.append(f"       revoked by {shown(r.id)}: {shown(r.reason)}{where}")
    for warning in report.warnings:
        named = f"  ({shown('; '.join(warning.trailers))})" if warning.trailers else ""
        lines.append(f"WARN {shown(warning.commit[:12])}  {shown(warning.reason)}{named}")
    trust = report.trusted_root
    if trust is not None:
        where = f" {shown(trust['path'])}" if trust.get("path") else ""
        digest = trust.get("digest") or "(not loaded)"
        lines.append(f"trusted root {digest} from {shown(trust['source'])}{where}")
    refused = sum(1 for c in report.commits if c.status == "refused")
    lines.append(
        f"{report.result.upper()}: {len(report.commits)} commit(s), {refused} refused"
        f" (policy {shown(report.policy_source)}{_chosen_by(report)})"
    )
    return "\n".join(lines)
