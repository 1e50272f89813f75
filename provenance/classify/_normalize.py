"""Normalisation of paths and changed lines before matching.

Paths are matched in several spellings so that evasions collapse onto the name they imitate:
Unicode compatibility forms (NFKC), combining marks (NFD tricks), invisible characters
(zero-width, bidi controls), Cyrillic, Greek and small-capital look-alikes, case, ``./``,
``//`` and ``..`` segments, backslashes, and control characters such as newline and tab.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Iterable

#: Cyrillic, Greek and other letters that render like Latin ones (Unicode confusables subset).
_CONFUSABLES = str.maketrans(
    # Cyrillic, Greek, Armenian and small-capital letters, in the order of the Latin below.
    (
        "\u0430\u0432\u0435\u0451\u043a\u043c\u043d\u043e"
        "\u0440\u0441\u0442\u0443\u0445\u0456\u0457\u0458"
        "\u0455\u0501\u051b\u051d\u04bb\u04cf\u0261\u0131"
        "\u0237\u0410\u0412\u0415\u041a\u041c\u041d\u041e"
        "\u0420\u0421\u0422\u0425\u0423\u0406\u0408\u0405"
        "\u03b1\u03b2\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1"
        "\u03c4\u03c5\u03c7\u0391\u0392\u0395\u0396\u0397"
        "\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5"
        "\u03a7\u0585\u057d\u0570\u0578\u0581\u1d00\u0280"
    ),
    ("abeekmhopctyxiijsdqwhlgijABEKMHOPCTXYIJSabeikvoptuxABEZHIKMNOPTYXouhngar"),
)
#: Latin letter small capitals (IPA and phonetic extensions), mapped to their lower-case letter.
_CONFUSABLES.update(
    str.maketrans(
        "ʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꜱᴛᴜᴠᴡʏᴢ",
        "bcdefghijklmnopstuvwyz",
    )
)

#: Characters that render as nothing (format characters and fillers outside category Cf).
_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)
_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
#: An upper-case letter that starts a word: after a lower-case letter or digit, or an acronym's
#: last letter before a lower-case one (``OAuthToken``). Matching the letter itself rather than
#: the empty boundary before it lets ``re`` skip to upper-case letters, which are rare.
_CAMEL_BOUNDARY = re.compile(r"[A-Z](?:(?<=[a-z0-9][A-Z])|(?<=[A-Z][A-Z])(?=[a-z]))")
_LOCK_HASH_RE = re.compile(r"(?:sha(?:1|256|384|512)-|h1:|sha256:)[A-Za-z0-9+/=]{16,}")


def fold(text: str) -> str:
    """Decompose, drop marks and invisible characters, map look-alikes, recompose."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if unicodedata.category(ch) not in _DROP_CATEGORIES)
    kept = _INVISIBLE_RE.sub("", kept).translate(_CONFUSABLES)
    return unicodedata.normalize("NFKC", kept)


def split_camel(text: str, sep: str) -> str:
    """Insert ``sep`` at lower-to-upper and acronym-to-word boundaries (``OAuthToken``)."""
    return _CAMEL_BOUNDARY.sub(lambda m: sep + m.group(), text)


def _segments(path: str) -> list[str]:
    """Path segments with empty, ``.`` and ``..`` segments resolved (never above the root)."""
    out: list[str] = []
    for seg in path.replace("\\", "/").split("/"):
        if seg in ("", "."):
            continue
        if seg == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    return out


def _without_controls(text: str, replacement: str) -> str:
    """Replace control characters (newline, tab, NUL ...) with ``replacement``."""
    if text.isprintable():
        return text
    return "".join(replacement if unicodedata.category(ch) == "Cc" else ch for ch in text)


def path_forms(path: str) -> tuple[str, ...]:
    """Distinct normalised spellings of ``path``; the first is the primary form.

    The primary form is folded, case-folded, with control characters turned into ``_``.
    The others also try control characters removed and camel-case split into ``_``-joined
    words (``src/useAuth.ts`` -> ``src/use_auth.ts``), so word-anchored globs see the parts.
    """
    folded = fold(path)
    forms: list[str] = []
    # Without control characters both replacements give the same spelling.
    for replacement in ("_", "") if not folded.isprintable() else ("",):
        joined = "/".join(_segments(_without_controls(folded, replacement)))
        for candidate in (joined, split_camel(joined, "_").replace("-", "_")):
            form = fold(candidate.casefold())
            if form not in forms:
                forms.append(form)
    return tuple(forms)


def resolve_target(link_path: str, target: str) -> str:
    """Where a symlink at ``link_path`` pointing to ``target`` lands, relative to the root."""
    if target.startswith(("/", "\\")):
        return target
    return posixpath.join(posixpath.dirname(link_path.replace("\\", "/")), target)


def outside_tree(link_path: str, target: str) -> bool:
    """True when a symlink's target is absolute or climbs above the repository root.

    Where such a link lands depends on the machine that checks the tree out, so no path rule
    can judge it (THREATS.md E26, G48).
    """
    if target.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", target):
        return True
    depth = len([s for s in link_path.replace("\\", "/").split("/")[:-1] if s not in ("", ".")])
    for seg in target.replace("\\", "/").split("/"):
        if seg == "..":
            depth -= 1
            if depth < 0:
                return True
        elif seg not in ("", "."):
            depth += 1
    return False


def raw_text(lines: Iterable[str]) -> str:
    """Changed lines joined by newlines; NFKC and without invisible characters if non-ASCII."""
    text = "\n".join(lines)
    if text.isascii():
        return text
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text))


def words_view(raw: str) -> str:
    """Lower-case text with identifiers split into words (``getAuth_x`` -> ``get auth x``)."""
    return split_camel(raw, " ").replace("_", " ").replace("-", " ").lower()


def manifest_view(raw: str) -> str:
    """Lower-case text with lockfile integrity hashes removed."""
    return _LOCK_HASH_RE.sub(" ", raw).lower()
