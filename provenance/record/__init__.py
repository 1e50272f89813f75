"""The record stage: a commit plus the agent session's context -> a change predicate.

- :mod:`~provenance.record.change`: ``SessionContext`` (agent, model, prompter, prompt
  commitment, skills, session times) and ``build_change_predicate`` (the commit, its changed
  paths with the classifier's verdict, and the session);
- :mod:`~provenance.record.capture`: what a session brings besides the commit: the
  per-repository prompt salt, a stored prompt after a secret scan, skill metadata, agent
  configuration committed at the commit, ``Assisted-by:`` trailers.

Exports load on first use (:mod:`provenance._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._lazy import lazy_exports

if TYPE_CHECKING:
    from provenance.record.capture import agent_config_at, assisted_by, scan_for_secrets
    from provenance.record.change import (
        SessionContext,
        build_change_predicate,
        prompt_from_digest,
        prompt_from_text,
        skill_descriptor,
    )

#: The submodule each exported name loads from (on first use).
_EXPORTS = {
    "capture": ("agent_config_at", "assisted_by", "scan_for_secrets"),
    "change": (
        "SessionContext",
        "build_change_predicate",
        "prompt_from_digest",
        "prompt_from_text",
        "skill_descriptor",
    ),
}
__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "SessionContext",
    "agent_config_at",
    "assisted_by",
    "build_change_predicate",
    "prompt_from_digest",
    "prompt_from_text",
    "scan_for_secrets",
    "skill_descriptor",
]
