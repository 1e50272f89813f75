"""Text that reaches a terminal: every control, format and separator character made visible.

Paths, commit subjects, agent, model, skill and signer names come from the repository and the
attestations, so from the agent. Printed raw, ``ESC [`` sequences, carriage returns, newlines
in directory names, bidi overrides and zero-width characters rewrite or hide lines of the
``approve`` preview and rows of ``log`` (THREATS.md G56). Every renderer passes each field
through :func:`shown` (paths through :func:`shown_path`, which also marks bidi, invisible and
mixed-script names), and the command line passes whole lines through :func:`terminal_safe`.
"""

from __future__ import annotations

import re
import unicodedata

#: Characters that reorder text (bidi embeddings, overrides, isolates and marks).
BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Categories never printed as they are: controls, format (zero-width), separators, unassigned.
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}
#: Scripts that are one writing system together (Japanese mixes kanji and kana by design).
_SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HALFWIDTH": "CJK", "IDEOGRAPHIC": "CJK"}


def _visible(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _hidden(ch: str) -> bool:
    return unicodedata.category(ch) in _HIDDEN or ch in BIDI


def shown(text: object) -> str:
    """``text`` with every hidden character escaped (``\\x1b``, ``\\r``, ``\\u202e``...).

    A backslash is doubled, so an escape can always be told from the characters it names.
    """
    value = str(text)
    if value.isprintable() and "\\" not in value:
        return value
    return "".join("\\\\" if ch == "\\" else _visible(ch) if _hidden(ch) else ch for ch in value)


#: ASCII characters ``_hidden`` reports, except the line break ``terminal_safe`` keeps.
_ASCII_HIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def terminal_safe(text: str) -> str:
    """A whole message for a terminal: lines kept, anything else hidden made visible.

    Backslashes are left alone so machine output (JSON) stays valid; fields inside the text
    were already passed through :func:`shown`.
    """
    if text.isprintable():
        return text
    if text.isascii() and not _ASCII_HIDDEN.search(text):
        return text  # ASCII with line breaks only (JSON, tables): nothing to make visible
    return "\n".join(
        "".join(_visible(ch) if _hidden(ch) else ch for ch in line) for line in text.split("\n")
    )


def _script(ch: str) -> str | None:
    if not ch.isalpha():
        return None
    try:
        first = unicodedata.name(ch).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"
    return _SCRIPT_GROUPS.get(first, first)


def warnings(path: str) -> list[str]:
    """Why a path could mislead a reader: ``bidi``, ``invisible``, ``control``, ``mixed-script``."""
    found: list[str] = []
    if any(ch in BIDI for ch in path):
        found.append("bidi")
    if any(unicodedata.category(ch) in ("Cf", "Mn", "Me") and ch not in BIDI for ch in path):
        found.append("invisible")
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in path):
        found.append("control")
    if any(len({s for s in map(_script, part) if s}) > 1 for part in path.split("/")):
        found.append("mixed-script")  # one name in two scripts: a look-alike (\u0430uth vs auth)
    return found


def shown_path(path: str) -> str:
    """An escaped path, followed by ``[!bidi, mixed-script]`` when it could mislead."""
    flags = warnings(path)
    return shown(path) + (f"  [!{', '.join(flags)}]" if flags else "")
