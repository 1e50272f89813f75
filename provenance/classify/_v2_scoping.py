"""Lookups that lose their scoping to the signed-in user or tenant (decision 0029).

``current_organization.items.find(params[:id])`` becoming ``Item.find(params[:id])`` lets
any signed-in user read any organisation's item (an insecure direct object reference), and the
line that does it names nothing an identity rule reads: ``Item.find`` is an ordinary lookup.
The same holds for ``$request->user()->posts()->findOrFail($id)`` becoming
``Post::findOrFail($id)``, ``request.user.order_set.get(pk=pk)`` becoming
``Order.objects.get(pk=pk)``, and ``where: {id, userId: ctx.state.user.id}`` losing its
``userId``.

``@2`` therefore reads, on a change's behaviour-changing lines, each *scoping*: an association
reached through the signed-in principal or tenant (``current_organization.items.…``,
``request.user.order_set.…``), or, in a query, a field bound to the principal
(``owner=request.user``, ``where: {userId: ctx.state.user.id}``, ``where('user_id',
auth()->id())``), or in SQL a principal's column bound to a parameter (``AND user_id = $2``).
It fires ``code.scoped-lookup`` on the removed lines whose scoping the new
side holds less often, when the new side's changed lines still look records up: the scoping
was dropped or re-pointed (``current_user.posts`` to ``current_organization.posts``); an
association renamed under the same principal is the same scoping.

What it leaves to the other rules, and why: a scoping *added* (a new query of the signed-in
user's records, or ``Item.find`` becoming scoped) narrows who reaches what; a scoped lookup
deleted with no lookup left (an action removed) reaches nothing. A brand-new unscoped lookup
has nothing to compare with and is not seen here.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from provenance.classify._locate import Line, numbered
from provenance.classify._v2_neutral import Effective, effective
from provenance.models import FileChange

RULE = "code.scoped-lookup"
DOC = "a lookup scoped to the signed-in user or tenant added, removed or re-pointed"

#: The signed-in principal or its tenant, as frameworks spell it.
_PRINCIPAL = (
    r"(?:@?current_?(?:user|organi[sz]ation|org|account|tenant|team|company|workspace|member"
    r"|project)|@?current(?:User|Organi[sz]ation|Org|Account|Tenant|Team|Company|Workspace"
    r"|Member)|Current\.(?:user|account|organi[sz]ation|tenant|team|company|workspace)"
    r"|(?:self\.)?request\.(?:user|tenant)|req\.(?:user|account|tenant|team|org)"
    r"|ctx\.state\.(?:user|account|tenant|team|org|organi[sz]ation|workspace|company)"
    r"|ctx\.user|context\.user|res\.locals\.(?:user|account|tenant|team|org)|g\.user"
    r"|session\.user|\$request->user\(\)|request\(\)->user\(\)"
    r"|auth\(\)->(?:user|id)\(\)|Auth::(?:user|id)\(\)|\$this->auth->user\(\))"
)
#: A scoping through an association: the principal, the association, and more after it
#: (``current_organization.items.find(...)``, ``$request->user()->posts()->findOrFail``).
_CHAIN = re.compile(
    rf"(?<![\w$])({_PRINCIPAL})\s*(?:\.|->|&\.)\s*\w+(?:\(\s*\))?\s*(?:\.|->|&\.)\s*\w"
)
#: A field bound to the principal: ``owner=request.user``, ``userId: ctx.state.user.id``,
#: ``'user_id', auth()->id()``, ``user_id => current_user.id`` (in a query: ``_QUERY``).
_FIELD = re.compile(
    r"""['"]?\b(\w*(?:user|owner|author|creator|account|tenant|team|org|organi[sz]ation"""
    r"""|company|member|workspace)\w*)['"]?\s*(?:=(?![=>~])|:(?!:)|=>|,)\s*"""
    rf"(?<![\w$])({_PRINCIPAL})",
    re.IGNORECASE,
)
#: In SQL, a principal's column bound to a parameter: ``AND user_id = $2``.
_SQL_FIELD = re.compile(
    r"(?i)\b(?:\w+\.)?((?:user|owner|author|creator|account|tenant|team|org|organi[sz]ation"
    r"|company|member|workspace)_?id)\s*=\s*(?:\$\d+|\?|:\w+|@\w+|%s|%\(\w+\)s|\{\w+\})"
)
#: A lookup or query call (or a query's ``where:`` key, or SQL).
_QUERY = re.compile(
    r"(?:\.|->|::)\s*(?:find\w*|where\w*|filter\w*|get|first\w*|exclude|sole|all|paginate"
    r"|select|pluck|exists)\s*[(!?]|\bwhere\s*:|\bget_object_or_404\s*\("
    r"|\b(?:SELECT|UPDATE|DELETE|WHERE)\b|\b(?:Query|Exec)\w*\("
)
_QUICK = re.compile(_PRINCIPAL)
_QUICK_SQL = re.compile(r"(?i)id\s*=\s*[$?:@%{]")


def might_scope(lines: Iterable[str]) -> bool:
    """Cheap: True when a changed line names the principal as scopings spell it, or binds an
    id column to a parameter."""
    text = "\n".join(lines)
    return bool(_QUICK.search(text) or _QUICK_SQL.search(text))


def scopings(text: str) -> list[str]:
    """The scopings a line holds, each as a normalised key: the principal of an association
    (``current_organization``: an association renamed under it is the same scoping), the
    field and principal of a query's binding (``owner=request.user``)."""
    keys = [_normal(m.group(1)) for m in _CHAIN.finditer(text)]
    for match in _FIELD.finditer(text):
        if _QUERY.search(text, 0, match.start()):
            keys.append(match.group(1).lower() + "=" + _normal(match.group(2)))
    keys += ["sql:" + m.group(1).lower().replace("_", "") for m in _SQL_FIELD.finditer(text)]
    return keys


def _normal(text: str) -> str:
    return re.sub(r"\s+|\(\s*\)", "", text).replace("->", ".").replace("&.", ".").lower()


def scoping_lines(lines: Sequence[Line], added: Sequence[str]) -> list[tuple[str, int]]:
    """The removed ``lines`` (side, number) holding a scoping the new side holds less often,
    when the lines the change adds (``added``) still look records up: the scoping was dropped
    or re-pointed, not its lookup deleted."""
    counts: dict[str, Counter[str]] = {"old": Counter(), "new": Counter()}
    where: dict[str, list[int]] = {}
    for side, number, text in lines:
        for key in scopings(text):
            counts[side][key] += 1
            if side == "old":
                where.setdefault(key, []).append(number)
    dropped = [key for key, count in counts["old"].items() if count > counts["new"][key]]
    if not dropped or not any(_QUERY.search(text) for text in added):
        return []
    return sorted({("old", n) for key in dropped for n in where[key]})


def scoped_places(change: FileChange, seen: Effective | bool | None) -> list[tuple[str, int]]:
    """Where ``code.scoped-lookup`` fires in ``change``: its behaviour-changing lines
    (``seen``, computed here when ``False``; all changed lines when ``None``)."""
    if not might_scope((*change.added, *change.removed)):
        return []
    if seen is False:
        seen = effective(change)
    if isinstance(seen, Effective):
        return scoping_lines(list(seen.lines), change.added) if not seen.neutral else []
    return scoping_lines(numbered(change), change.added)


def scoping_document() -> dict[str, str]:
    """The stage's patterns, for the ruleset digest."""
    return {"lookups": _CHAIN.pattern, "fields": _FIELD.pattern, "sql": _SQL_FIELD.pattern}
