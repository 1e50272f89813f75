"""Source text as the compiler reads it: declared encodings and escapes decoded (THREATS.md G49).

Git shows bytes; Python decodes a file with the codec its ``coding`` declaration names (PEP 263:
line one or two), and some codecs do not leave ASCII alone. Under ``utf-7`` the bytes
``+AGk-f`` read ``if``; under ``unicode_escape`` ``\\x69f`` does; under EBCDIC (``cp037``)
every letter is a byte above 0x7f. Java decodes ``\\uXXXX`` escapes anywhere in a source file
before it lexes, JavaScript and C# in identifiers, and most languages' strings decode
``\\xHH`` too. Content rules must see the decoded text.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from functools import cache

from provenance.models import FileChange

#: PEP 263's regular expression for the declaration.
_DECLARATION = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_OR_COMMENT = re.compile(r"^[ \t\f]*(?:[#\r\n]|$)")
#: Printable ASCII, and the shift and escape sequences opaque codecs turn into other text.
_PROBES = (bytes(range(0x20, 0x7F)), rb"+AGk- \x69 \u0069 \N{DIGIT ONE}")


def declared_codec(source: str) -> str | None:
    """The codec a Python source declares on line one or two (PEP 263), if any."""
    lines = source.split("\n", 2)[:2]
    for n, line in enumerate(lines):
        m = _DECLARATION.match(line)
        if m:
            return m.group(1)
        if n == 0 and not _BLANK_OR_COMMENT.match(line):
            return None
    return None


@cache
def opaque(codec: str) -> bool:
    """True when ``codec`` does not read printable ASCII as itself (``utf-7``, ``cp037`` ...).

    A codec Python would refuse for source (unknown, bytes-to-bytes, UTF-16) is not opaque:
    such a file does not run.
    """
    try:
        info = codecs.lookup(codec)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "invalid escape sequence" from the escape codecs
            texts = [info.decode(probe, "replace")[0] for probe in _PROBES]
    except (LookupError, TypeError, ValueError, UnicodeError, AssertionError):  # bytes codecs
        return False
    if info.name.startswith(("utf-16", "utf-32")):
        return False
    pairs = zip(texts, _PROBES, strict=True)
    return any(not isinstance(t, str) or t != p.decode() for t, p in pairs)


def might_hide(lines: Sequence[str]) -> bool:
    """True when changed lines hold a shift, escape or non-ASCII byte an opaque codec reads."""
    text = "".join(lines)
    return not text.isascii() or "+" in text or "\\" in text


def decode_source(source: str, codec: str) -> list[str]:
    """Lines of ``source`` (UTF-8 with ``surrogateescape``) as ``codec`` reads its bytes."""
    data = source.encode("utf-8", "surrogateescape")
    return codecs.decode(data, codec, "replace").splitlines()


def line_diff(old: Sequence[str], new: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Added and removed lines between two versions (as multisets; order does not matter)."""
    before, after = Counter(old), Counter(new)
    return tuple((after - before).elements()), tuple((before - after).elements())


def python_reading(change: FileChange) -> tuple[FileChange | None, bool]:
    """The change as Python reads it under a declared opaque codec, and whether one is declared.

    Needs the sources; without them (not wanted) there is nothing to decode. A blob too
    large to read gives only its first bytes (``source_heads``): the declaration, on line
    one or two, is still seen (red-team 06), but nothing is decoded.
    """
    sources = (change.old_source, change.new_source)
    codecs_ = [declared_codec(s) if s is not None else None for s in sources]
    if not any(c is not None and opaque(c) for c in codecs_):
        return None, False
    if change.source_heads:
        return None, True
    sides: list[list[str]] = []
    for source, codec in zip(sources, codecs_, strict=True):
        if source is None:
            sides.append([])
        elif codec is not None and opaque(codec):
            sides.append(decode_source(source, codec))
        else:
            sides.append(source.splitlines())
    added, removed = line_diff(sides[0], sides[1])
    return replace(change, added=added, removed=removed, old_source=None, new_source=None), True


#: Escapes JavaScript and C# decode in identifiers (``\u0069sAdmin``, ``\u{69}sAdmin``,
#: ``\U00000069``), and that strings in most languages decode (``"\x69sAdmin"``).
_ESCAPE = re.compile(
    r"\\u\{([0-9a-fA-F]{1,6})\}|\\u+([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})|\\x([0-9a-fA-F]{2})"
)


def _unescape(match: re.Match[str]) -> str:
    value = int(next(g for g in match.groups() if g is not None), 16)
    return chr(value) if value <= 0x10FFFF and not 0xD800 <= value <= 0xDFFF else match.group()


def unescaped(lines: Sequence[str]) -> tuple[str, ...] | None:
    """Lines with unicode and hex escapes decoded, or ``None`` when there are none."""
    if not any("\\u" in line or "\\U" in line or "\\x" in line for line in lines):
        return None
    return tuple(_ESCAPE.sub(_unescape, line) for line in lines)


def escaped_reading(change: FileChange) -> FileChange | None:
    """The change with identifier and string escapes decoded (JS, C#, and others' strings).

    ``User.prototype.\\u0069sAdmin = ...`` is ``isAdmin`` to the JavaScript engine and the C#
    compiler; ``obj["\\x69sAdmin"]`` is to most languages (red-team 05).
    """
    added, removed = unescaped(change.added), unescaped(change.removed)
    if added is None and removed is None:
        return None
    return replace(change, added=added or change.added, removed=removed or change.removed)
