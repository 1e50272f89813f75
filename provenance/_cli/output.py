"""The one way text reaches the terminal (every line made safe first, THREATS.md G56), the
one way a report reaches stdout or ``--output``, the one way a command ends with a status
(the exit-code contract, :class:`ExitCode`), progress on a terminal, and a refusal or an
error in every report format.

Streams: reports (text, JSON, SARIF, CSV) go to stdout or to the file ``--output`` names;
progress, warnings and errors go to stderr, progress only when stderr is a terminal. A
command that asked for a machine format gets a machine-readable document even when it ends
with exit 1 before any verdict, exit 2 or exit 3 (``"result": "error"``; in SARIF
``invocations[0].executionSuccessful: false``), so a pipeline never reads an empty or stale
file.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from provenance.display import terminal_safe
from provenance.errors import ProvenanceError, Refusal, UsageError
from provenance.reasons import ExitCode
from provenance.safefiles import write_output

F = TypeVar("F", bound=Callable[..., Any])

#: Formats a program reads: an error still produces a document in these.
MACHINE_FORMATS = ("json", "sarif")


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


@dataclass
class Reporter:
    """Where a command's report goes: stdout, or the ``--output`` file (atomic, no links).

    ``gate``: the document is a gate report, whose error and refusal forms carry an empty
    ``commits`` list so that ``jq '.commits[]'`` keeps working.
    """

    fmt: str
    output: Path | None = None
    gate: bool = False
    flag: str = "--output"
    written: bool = field(default=False, init=False)

    @property
    def machine(self) -> bool:
        """Is the report for a program (JSON, SARIF)?"""
        return self.fmt in MACHINE_FORMATS

    def write(self, text: str) -> None:
        """The report itself: stdout (made terminal-safe), or ``--output`` byte for byte."""
        self.written = True
        if self.output is None:
            echo(text)
            return
        try:
            write_output(self.output, (text.rstrip("\n") + "\n").encode())
        except OSError as e:
            raise UsageError(
                f"cannot write {self.flag} {self.output}: {e.strerror or e}",
                hint="name a new file or a plain file of yours (links are never followed)",
            ) from e

    def refusal(self, error: Refusal) -> None:
        """A whole refusal (exit 1) before any verdict, in the machine format asked for."""
        if self.fmt == "sarif":
            from provenance.verify.formats import render_refusal_sarif

            self.write(render_refusal_sarif(error.reason, str(error)))
        elif self.fmt == "json":
            document: dict[str, Any] = {
                "result": "refused", "reasons": [error.reason], "error": str(error),
            }  # fmt: skip
            self.write(json.dumps(document | ({"commits": []} if self.gate else {}), indent=2))

    def error(self, message: str, hint: str | None, code: ExitCode) -> None:
        """Exit 2 or 3: ``"result": "error"`` in JSON, a failed invocation in SARIF."""
        if self.fmt == "sarif":
            from provenance.verify.formats import render_error_sarif

            self.write(render_error_sarif(message, hint, int(code)))
        elif self.fmt == "json":
            document: dict[str, Any] = {
                "result": "error", "exit_code": int(code), "error": message, "hint": hint,
            }  # fmt: skip
            self.write(json.dumps(document | ({"commits": []} if self.gate else {}), indent=2))


def document_failure(reporter: Reporter, e: BaseException) -> None:
    """Leave the machine-readable form of a failure, unless the report was already written."""
    if reporter.written or not reporter.machine:
        return
    try:
        if isinstance(e, Refusal):
            reporter.refusal(e)
        elif isinstance(e, ProvenanceError):
            reporter.error(str(e), e.hint, e.exit_code)
        elif isinstance(e, click.ClickException):
            reporter.error(e.format_message(), None, ExitCode.USAGE)
        elif isinstance(e, click.exceptions.Abort):
            reporter.error("aborted", None, ExitCode.USAGE)
        elif isinstance(e, Exception):
            reporter.error(f"internal error ({type(e).__name__}: {e})", None, ExitCode.UNDECIDED)
    except ProvenanceError as unwritable:  # the error itself is what the user must see
        echo(f"error: {unwritable.diagnostics()}", err=True)


def report_options(*choices: str, gate: bool = False) -> Callable[[F], F]:
    """``--format`` and ``--output``; the command gets a :class:`Reporter` as ``report``.

    Any failure of the command (an error, a refusal before a verdict, a usage error raised
    while it ran, an internal error) leaves the machine-readable document before the CLI
    prints the error on stderr and exits with its code.
    """

    def deco(f: F) -> F:
        @functools.wraps(f)
        def command(*args: Any, fmt: str, output: Path | None, **kwargs: Any) -> Any:
            reporter = Reporter(fmt, output, gate=gate)
            try:
                return f(*args, report=reporter, **kwargs)
            except SystemExit:
                raise
            except BaseException as e:
                document_failure(reporter, e)
                raise

        command = click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="Write the report to this file (atomically; a link there is refused) "
            "instead of stdout.",
        )(command)
        command = click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=choices[0],
            show_default=True,
            help="Report format (on stdout, or in --output).",
        )(command)
        return command  # type: ignore[return-value]

    return deco


def refuse_whole(error: Refusal, report: Reporter) -> NoReturn:
    """Refuse a whole verification (exit 1) before any commit was judged.

    A range that proves nothing, an unusable evidence pack: machine-readable in every
    machine format, and the reason on stderr.
    """
    echo(f"error: {error.diagnostics()}", err=True)
    report.refusal(error)
    finish_verdict(False)
