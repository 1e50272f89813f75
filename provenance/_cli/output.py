"""The one way text reaches the terminal (every line made safe first, THREATS.md G56), and
the one way a command ends with a status (the exit-code contract, :class:`ExitCode`)."""

from __future__ import annotations

from typing import NoReturn

import click

from provenance.display import terminal_safe
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
