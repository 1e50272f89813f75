"""Templates: what a page sends and how it is protected, not how it looks (IDENTITY-RUBRIC.md).

UI text and layout of login or settings screens are not identity-related unless they change
what is checked or sent. For a template, ``@2`` therefore compares what each side's changed
lines (per hunk) send, as multisets of facts, and ignores everything else:

- **CSRF markers** (``{% csrf_token %}``, ``@csrf``, ``csrf_field()``, ``authenticity_token``,
  ``csrf_meta_tags``, ``.csrfField``...), counted against the POST forms opened in the same
  hunk: a token added to or removed from a form that stays, or a POST form added without one,
  fires ``template.csrf``. A token that only moved or was re-indented, or that came or went
  with its own form, does not.
- **Form controls** (HTML ``<form>``, ``<input>``, ``<select>``, ``<textarea>``, ``<button>``,
  and form helpers such as Rails' ``f.password_field :password, pattern: ...``): the attributes
  that decide what is submitted or accepted (name, type, hidden values, pattern, required,
  lengths and bounds, disabled/readonly, action, method). Class, size, placeholder,
  ``autocomplete``, ``autofocus``, ``inputmode``, ARIA and data attributes are presentation.
  A difference fires ``template.form`` when the template's path is identity-related or the
  differing control names an identity thing (password, token, OTP, role, login...).

Conditions that only show or hide markup (``{% if user.is_superuser %}``) are UI: the server
must enforce what they hide, and that code is judged where it lives.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from provenance.classify._locate import Line

CSRF_RULE = "template.csrf"
FORM_RULE = "template.form"
CSRF_DOC = "a CSRF token gained or lost in a template (not one that only moved)"
FORM_DOC = "what an identity form submits or accepts changed (names, types, patterns, actions)"

_CSRF = re.compile(
    r"csrf_token|csrf_field|@csrf\b|csrf_meta_tags?|authenticity_token|csrfField|csrf\.token"
    r"|\.CSRF\b|_csrf\b|xsrf|anti_?forgery|@Html\.AntiForgeryToken|csrf_input",
    re.IGNORECASE,
)
#: A form control: an HTML tag, or a form helper call up to the end of its template tag.
_POST_FORM = re.compile(
    r"<form\b[^\n]*?\bmethod\s*=\s*[\"']?(?:post|put|patch|delete)\b", re.IGNORECASE
)
_CONTROL = re.compile(
    r"<(?P<tag>form|input|select|textarea|button)\b(?P<html>(?:->|=>|[^>])*)>?"
    r"|\b(?P<helper>\w*(?:_field|_field_tag|text_area|_area_tag|select|check_box|radio_button"
    r"|submit|submit_tag|button_to|form_with|form_for|form_tag|form_with_tag))\b"
    r"(?P<args>[^%}\n]*(?:\n[^%}<\n]*){0,12})",
    re.IGNORECASE,
)
_PAIR = re.compile(
    r"""[:@]?(?P<key>[A-Za-z_][\w-]*)\s*(?:=>|=|:)\s*(?P<value>"[^"]*"|'[^']*'|[\w:./\[\]+-]+)"""
)
_FIRST_SYMBOL = re.compile(r"^\s*\(?\s*:(\w+)")
_BARE = re.compile(r"(?<![\w-])(required|disabled|readonly|multiple)(?![\w-])", re.IGNORECASE)
#: Attributes that decide what is submitted or accepted.
SIGNIFICANT = frozenset(
    {
        "name", "type", "value", "pattern", "required", "minlength", "maxlength", "min",
        "max", "disabled", "readonly", "action", "method", "formaction", "formmethod",
        "url", "accept", "multiple", "form",
    }
)  # fmt: skip
_IDENTITY = re.compile(
    r"pass(?:word|wd|phrase)?|otp|totp|token|secret|mfa|2fa|two_?factor|login|log_?in|logout"
    r"|sign_?in|sign_?up|register|auth|session|role|permission|admin|invite|api_?key|email"
    r"|username|user|credential|recovery|webauthn|passkey|sso|saml|oauth|oidc|remember",
    re.IGNORECASE,
)


def _blocks(lines: Sequence[Line], side: str) -> list[str]:
    """The changed lines of one side, joined per run of consecutive numbers (a hunk)."""
    out: list[str] = []
    last = -2
    for line_side, number, text in lines:
        if line_side != side:
            continue
        if number == last + 1 and out:
            out[-1] += "\n" + text
        else:
            out.append(text)
        last = number
    return out


def _facts(text: str) -> list[tuple[Any, ...]]:
    """The form facts of one block: controls with their significant attributes, loose ones."""
    facts: list[tuple[Any, ...]] = []
    covered: list[tuple[int, int]] = []
    for m in _CONTROL.finditer(text):
        body = m.group("html") if m.group("tag") else m.group("args")
        kind = (m.group("tag") or m.group("helper") or "").lower()
        attrs = _significant(body or "")
        symbol = _FIRST_SYMBOL.match(m.group("args") or "")
        if symbol:
            attrs.append(("name", symbol.group(1)))
        facts.append(("control", kind, tuple(sorted(attrs))))
        covered.append(m.span())
    pieces, at = [], 0
    for start, end in covered:
        pieces.append(text[at:start])
        at = end
    pieces.append(text[at:])
    facts += [("attribute", *pair) for pair in _significant(" ".join(pieces))]
    return facts


def _significant(text: str) -> list[tuple[str, str]]:
    pairs = [
        (m.group("key").lower(), m.group("value").strip("\"'"))
        for m in _PAIR.finditer(text)
        if m.group("key").lower() in SIGNIFICANT
    ]
    keys = {k for k, _ in pairs}
    pairs += [(b.lower(), "") for b in _BARE.findall(text) if b.lower() not in keys]
    return pairs


def _csrf(blocks: Iterable[str]) -> int:
    """CSRF markers less the POST forms they protect, over the hunks of one side."""
    return sum(len(_CSRF.findall(block)) - len(_POST_FORM.findall(block)) for block in blocks)


def template_rules(lines: Sequence[Line], identity_path: bool) -> dict[str, list[tuple[str, int]]]:
    """Rules a template change fires, each with the changed lines (side, number) behind it."""
    out: dict[str, list[tuple[str, int]]] = {}
    old, new = _blocks(lines, "old"), _blocks(lines, "new")
    if _csrf(old) != _csrf(new):
        out[CSRF_RULE] = [(s, n) for s, n, t in lines if _CSRF.search(t)]
    old_facts = Counter(f for block in old for f in _facts(block))
    new_facts = Counter(f for block in new for f in _facts(block))
    differing = (old_facts - new_facts) + (new_facts - old_facts)
    if differing and (identity_path or any(_IDENTITY.search(repr(f)) for f in differing)):
        words = {str(v) for f in differing for v in _flatten(f) if v}
        out[FORM_RULE] = [
            (s, n) for s, n, t in lines if any(w in t for w in words if len(w) > 2)
        ] or [(s, n) for s, n, _ in lines[:1]]
    return out


def _flatten(value: Any) -> Iterable[Any]:
    if isinstance(value, tuple):
        for v in value:
            yield from _flatten(v)
    else:
        yield value


def templates_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "csrf": _CSRF.pattern,
        "post_form": _POST_FORM.pattern,
        "control": _CONTROL.pattern,
        "significant": sorted(SIGNIFICANT),
        "identity": _IDENTITY.pattern,
    }
