"""The verify stage: stored lines -> verified attestations -> the gate's decision -> reports.

- :mod:`~provenance.verify.trust`: what verification trusts (policy, keys, one trusted root
  and where it came from), built only by ``build_trust``;
- :mod:`~provenance.verify.screen`, :mod:`~provenance.verify.envelope`,
  :mod:`~provenance.verify.statement`: strict parsing before any crypto, then the statement;
- :mod:`~provenance.verify.attestation`: one line end to end (``verify_line``), with the two
  signature adapters :mod:`~provenance.verify.sigstore_adapter` (bundles) and
  :mod:`~provenance.verify.keyed` (key-signed envelopes), and the prompter check
  (:mod:`~provenance.verify.prompt`);
- :mod:`~provenance.verify.approvals`: separation of duties over narrow facts;
- :mod:`~provenance.verify.gate`: the one decision over a target (a range, or named commits
  each a range of one), forked over :mod:`~provenance.verify.pool`;
- :mod:`~provenance.verify.report`, :mod:`~provenance.verify.formats`: the verdict as a
  value and its text, JSON, SARIF and VSA renderings;
- ``verify-bundle`` (any Sigstore bundle): :mod:`~provenance.verify.anybundle`,
  :mod:`~provenance.verify.sigstore_bundles` (its own adapter), :mod:`~provenance.verify.keybundle`;
- :mod:`~provenance.verify.prune`: which lines can never count.

Exports load on first use (:mod:`provenance._lazy`); the gate itself is
``provenance.verify.gate.gate`` (a name the submodule would shadow here). Reason codes:
:mod:`provenance.reasons` (``provenance.verify.reasons`` re-exports ``Reason``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._lazy import lazy_exports

if TYPE_CHECKING:
    from provenance.verify.approvals import ApprovalFacts, ChangeFacts, evaluate
    from provenance.verify.attestation import AttestationResult, verify_line
    from provenance.verify.gate import Standing, Target, decide, standing
    from provenance.verify.report import (
        CommitVerdict,
        RangeInfo,
        Report,
        render_json,
        render_text,
        report_to_dict,
    )
    from provenance.verify.trust import TrustContext, TrustSource, build_trust

#: The submodule each exported name loads from (on first use).
_EXPORTS = {
    "approvals": ("ApprovalFacts", "ChangeFacts", "evaluate"),
    "attestation": ("AttestationResult", "verify_line"),
    "gate": ("Standing", "Target", "decide", "standing"),
    "report": (
        "CommitVerdict",
        "RangeInfo",
        "Report",
        "render_json",
        "render_text",
        "report_to_dict",
    ),
    "trust": ("TrustContext", "TrustSource", "build_trust"),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ApprovalFacts",
    "AttestationResult",
    "ChangeFacts",
    "CommitVerdict",
    "RangeInfo",
    "Report",
    "Standing",
    "Target",
    "TrustContext",
    "TrustSource",
    "build_trust",
    "decide",
    "evaluate",
    "render_json",
    "render_text",
    "report_to_dict",
    "standing",
    "verify_line",
]
