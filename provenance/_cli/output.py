"""The one way text reaches the terminal (every line made safe first, THREATS.md G56), the
one way a command ends with a status (the exit-code contract, :class:`ExitCode`), progress
on a terminal, and a refusal before any commit was judged, in every report format."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from provenance.display import terminal_safe
from provenance.errors import Refusal
from provenance.reasons import ExitCode


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` after :func:`~provenance.display.terminal_safe`: no raw ESC, CR or bidi."""
    click.echo(terminal_safe(str(message)), err=err, nl=nl)


def finish(code: ExitCode | int) -> NoReturn:
    """End the command with ``code`` (an :class:`ExitCode`, or a wrapped agent's own status)."""
    raise SystemExit(int(code))


def finish_verdict(passed: bool) -> NoReturn:
    """End a verification: ``PASSED`` (0) or ``REFUSED`` (1)."""
    finish(ExitCode.PASSED if passed else ExitCode.REFUSED)


def progress_printer() -> Callable[[str, int, int], None] | None:
    """A progress callback on stderr when it is a terminal, else ``None`` (quiet in CI)."""
    if not sys.stderr.isatty():
        return None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done == total else ""
        click.echo(f"\r{stage} {done}/{total}", err=True, nl=False)  # our own words only
        if end:
            click.echo("", err=True)

    return show


def refuse_whole(error: Refusal, fmt: str) -> NoReturn:
    """Refuse a whole verification (exit 1) before any commit was judged, in format ``fmt``.

    A range that proves nothing, an unusable evidence pack: machine-readable in every format.
    """
    echo(f"error: {error.diagnostics()}", err=True)
    if fmt == "json":
        document = {"result": "refused", "reasons": [error.reason], "error": str(error),
                    "commits": []}  # fmt: skip
        echo(json.dumps(document, indent=2))
    elif fmt == "sarif":
        from provenance.verify.formats import render_refusal_sarif

        echo(render_refusal_sarif(error.reason, str(error)))
    finish_verdict(False)
