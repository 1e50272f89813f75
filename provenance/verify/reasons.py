"""Re-export of :class:`provenance.reasons.Reason`, where it lived until issue 14.

Kept so code written against ``provenance.verify.reasons`` keeps importing; new code imports
``provenance.reasons`` (docs/decisions/0012).
"""

from provenance.reasons import Reason

__all__ = ["Reason"]
