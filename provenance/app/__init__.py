"""Use cases composed from the stages; each CLI command calls exactly one function here.

- ``verify BASE..HEAD``, ``verify COMMIT``, ``classify``: :mod:`~provenance.app.gate`
  (``verify_range``, ``verify``, ``classify_range``); ``pending``: :mod:`~provenance.app.pending`;
- ``stamp``: :mod:`~provenance.app.stamp`; ``stamp --pending``:
  :mod:`~provenance.app.pending_stamps` (``complete_pending``);
- ``run``: :mod:`~provenance.app.run` (``run_session``), with the credential handling in
  :mod:`~provenance.app.credentials` and the rules of which commits are the session's in
  :mod:`~provenance.app.session_commits`;
- ``approve``: :mod:`~provenance.app.approve` (``preview``, then ``approve``); ``prompt
  sign``: :mod:`~provenance.app.prompt`;
- ``index``, ``query``, ``log``, ``blame``: :mod:`~provenance.app.audit`; ``export`` and
  ``verify --evidence``: :mod:`~provenance.app.evidence`; ``prune``:
  :mod:`~provenance.app.prune`; ``sync``: :mod:`~provenance.app.sync`;
- ``verify-bundle``, ``trust-root export``: :mod:`~provenance.app.verify_bundle`,
  :mod:`~provenance.app.trust_root`; ``init``, ``hooks``, ``demo``: :mod:`~provenance.app.init`,
  :mod:`~provenance.app.hooks`, :mod:`~provenance.app.demo`.

Shared by the use cases: :mod:`~provenance.app.options` (``VerifyOptions``),
:mod:`~provenance.app.policy_source` (which policy applies), :mod:`~provenance.app.session`
(a session's capture options), :mod:`~provenance.app.vsa`. ``real_eval`` is the classifier's
evaluation harness (moving to ``scripts/`` with issue 16). Exports load on first use; a use
case named like its module (``stamp``, ``sync``, ``prune`` ...) is imported from the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._lazy import lazy_exports

if TYPE_CHECKING:
    from provenance.app.approve import preview
    from provenance.app.audit import blame, build_index, log, query
    from provenance.app.evidence import export_pack, verify_evidence
    from provenance.app.gate import classify_range, verify, verify_range
    from provenance.app.options import VerifyOptions
    from provenance.app.pending_stamps import complete_pending
    from provenance.app.run import run_session

#: The submodule each exported name loads from (on first use).
_EXPORTS = {
    "approve": ("preview",),
    "audit": ("blame", "build_index", "log", "query"),
    "evidence": ("export_pack", "verify_evidence"),
    "gate": ("classify_range", "verify", "verify_range"),
    "options": ("VerifyOptions",),
    "pending_stamps": ("complete_pending",),
    "run": ("run_session",),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "VerifyOptions",
    "blame",
    "build_index",
    "classify_range",
    "complete_pending",
    "export_pack",
    "log",
    "preview",
    "query",
    "run_session",
    "verify",
    "verify_evidence",
    "verify_range",
]
