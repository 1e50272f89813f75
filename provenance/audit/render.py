"""Renderers for audit answers: a table for people, JSON and CSV for machines (strings only)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from provenance.audit.models import BlameLine, Hit, LogEntry
from provenance.display import shown, shown_path

Column = tuple[str, Callable[[Any], str]]


def _join(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "-"


_HIT_COLUMNS: list[Column] = [
    ("commit", lambda h: h.commit[:12]),
    ("signed", lambda h: h.signed_time.strftime("%Y-%m-%d %H:%M") if h.signed_time else "-"),
    ("agent", lambda h: h.agent + (f"@{h.agent_version}" if h.agent_version else "")),
    ("model", lambda h: h.model or "-"),
    ("prompter", lambda h: h.prompter or "-"),
    ("approvers", lambda h: _join(h.approvers)),
    ("status", lambda h: "ok" if h.status == "ok" else _join(h.reasons)),
    ("paths", lambda h: _join([shown_path(p) for p in h.paths])),
]
_LOG_COLUMNS: list[Column] = [
    ("commit", lambda e: e.commit[:12]),
    ("date", lambda e: e.date[:10]),
    ("agent", lambda e: e.agent),
    ("model", lambda e: e.model),
    ("approvers", lambda e: _join(e.approvers)),
    ("status", lambda e: e.status),
    ("subject", lambda e: e.subject),
]
_BLAME_COLUMNS: list[Column] = [
    ("line", lambda b: str(b.line)),
    ("commit", lambda b: b.commit[:12]),
    ("agent", lambda b: b.agent),
    ("model", lambda b: b.model),
    ("approvers", lambda b: _join(b.approvers)),
    ("text", lambda b: b.text),
]


def _table(items: Sequence[Any], columns: list[Column]) -> str:
    """Rows for a terminal: every cell escaped (paths also marked when they could mislead)."""
    rows = [
        [get(item) if name == "paths" else shown(get(item)) for name, get in columns]
        for item in items
    ]
    header = [name.upper() for name, _ in columns]
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]
    lines = []
    for row in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths[:-1], strict=True)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _csv_value(value: object) -> str:
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return "" if value is None else str(value)


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _render(items: Sequence[Any], kind: type[Any], fmt: str, columns: list[Column]) -> str:
    if fmt == "table":
        return _table(items, columns)
    data = [{k: _jsonable(v) for k, v in item._asdict().items()} for item in items]
    if fmt == "json":
        return json.dumps(data, indent=2)
    out = io.StringIO()
    fields: tuple[str, ...] = kind._fields
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in data:
        writer.writerow([_csv_value(row.get(f)) for f in fields])
    return out.getvalue().rstrip("\n")


def render_hits(hits: Sequence[Hit], fmt: str) -> str:
    """``query`` output: table, json or csv."""
    return _render(hits, Hit, fmt, _HIT_COLUMNS)


def render_log(entries: Sequence[LogEntry], fmt: str) -> str:
    """``log`` output: table, json or csv."""
    return _render(entries, LogEntry, fmt, _LOG_COLUMNS)


def render_blame(lines: Sequence[BlameLine], fmt: str) -> str:
    """``blame`` output: table, json or csv."""
    return _render(lines, BlameLine, fmt, _BLAME_COLUMNS)
