"""``@2``'s reading of a condition for ``code.guard-flow`` (decision 0031).

``@1`` takes any ``?`` for a condition token (``_guard._CONDITION``), so JavaScript's and C#'s
optional chaining counts: ``userId: context.user?.id`` in a log call's arguments, or
``userId={user?.id}`` passed to a component, read as "a condition on the principal" and made
every function holding one a decision (outline 3afb0517bfa5, 69fdebd573ca). ``a?.b`` only
reads ``b`` when ``a`` is there: the same line without the ``?`` (``user.id``) was never a
condition, so ``@2`` reads it like that line. Everything else ``@1`` reads stays a condition:
the ternary ``a ? b : c`` (``?`` then a space or a name), PHP's and Kotlin's ``?:``,
``??``, and Ruby's predicates (``has_role?(...)``, which decide: human-essentials
30a52c2c6d1e). A ``?.`` before a digit is a ternary's decimal (``x?.5:1``) and stays.

``@1``'s verdicts are pinned: this module does not edit what ``_guard`` reads for it; ``@2``
passes the reading along with its matcher (``_guard.Reading``, ``_v2_frames.framed``).
"""

from __future__ import annotations

import re

from provenance.classify._guard import _CONDITION, _WHO
from provenance.classify._memo import LineFlags
from provenance.classify._normalize import words_view

#: ``_CONDITION`` less optional chaining: a ``?`` directly followed by ``.`` and a non-digit.
CONDITION = re.compile(_CONDITION.pattern.replace(r"|\?|", r"|\?(?!\.(?!\d))|"))
if CONDITION.pattern == _CONDITION.pattern:  # pragma: no cover - a guard on an edit of _guard
    raise AssertionError("_CONDITION no longer has a bare ``?`` alternative to narrow")


def _conditions_who(line: str) -> bool:
    return CONDITION.search(line) is not None and _WHO.search(words_view(line)) is not None


#: The lines that are conditions on who is asking, as ``@2`` reads them.
CONDITIONS = LineFlags(_conditions_who)


def conditions_document() -> dict[str, str]:
    """What ``@2`` reads as a condition in ``code.guard-flow``, for its ruleset digest."""
    return {"condition": CONDITION.pattern}
