"""Strict JSON and base64: duplicate keys, non-finite numbers and lax base64 are refused."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from provenance.reasons import Reason

_B64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
MAX_DEPTH = 64


class StrictJSONError(ValueError):
    """Input refused, with the reason code to report."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError(Reason.DUPLICATE_JSON_KEY, f"duplicate key {key!r}")
        out[key] = value
    return out


def _reject_constant(name: str, reason: Reason = Reason.MALFORMED) -> Any:
    raise StrictJSONError(reason, f"non-finite number {name}")


def _depth(value: Any, limit: int) -> None:
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise StrictJSONError(Reason.TOO_LARGE, f"nesting deeper than {limit}")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def loads_strict(data: bytes, *, reason: Reason = Reason.MALFORMED) -> Any:
    """Parse JSON refusing duplicate keys, NaN/Infinity, invalid UTF-8 and deep nesting."""
    try:
        text = data.decode("utf-8", errors="strict")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=lambda name: _reject_constant(name, reason),
        )
    except StrictJSONError:
        raise
    except RecursionError as e:
        raise StrictJSONError(Reason.TOO_LARGE, "nesting too deep") from e
    except (UnicodeDecodeError, ValueError) as e:
        raise StrictJSONError(reason, f"not valid JSON: {e}") from e
    _depth(value, MAX_DEPTH)
    return value


def b64decode_strict(value: Any) -> bytes:
    """Standard-alphabet, padded, whitespace-free base64 only (THREATS.md A4)."""
    if not isinstance(value, str) or not _B64.fullmatch(value):
        raise StrictJSONError(Reason.BASE64_INVALID, "not canonical standard base64")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise StrictJSONError(Reason.BASE64_INVALID, str(e)) from e
    if base64.b64encode(raw).decode() != value:
        raise StrictJSONError(Reason.BASE64_INVALID, "non-canonical base64 padding bits")
    return raw
