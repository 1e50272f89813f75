"""The one way text reaches the terminal: every line made safe first (THREATS.md G56)."""

from __future__ import annotations

import click

from provenance.display import terminal_safe


def echo(message: object = "", *, err: bool = False, nl: bool = True) -> None:
    """``click.echo`` after :func:`~provenance.display.terminal_safe`: no raw ESC, CR or bidi."""
    click.echo(terminal_safe(str(message)), err=err, nl=nl)
