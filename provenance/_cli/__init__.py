"""Command line: the only place that imports click, prints or exits.

Each command parses its options (shared ones are decorators in :mod:`~provenance._cli.options`),
calls one use case of :mod:`provenance.app`, and renders; :mod:`~provenance._cli.output` is the
one way text reaches the terminal and the one way a command ends with an exit code. ``main``
maps errors to the exit-code contract (:class:`provenance.reasons.ExitCode`).
"""

from __future__ import annotations

import logging
import os
import sys

import click

from provenance import __version__
from provenance._cli.output import echo
from provenance.errors import ProvenanceError
from provenance.gitio.runner import safe_search_path
from provenance.reasons import ExitCode
from provenance.safefiles import without_working_directory


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="provenance")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
def cli(verbose: int) -> None:
    """Prove who produced each identity-related change an AI agent wrote, and gate releases.

    \b
    Typical flow:
      provenance init                      # write .provenance/policy.toml, then commit it
      provenance stamp --agent ... HEAD    # record + sign + store the change attestation
      provenance verify HEAD               # check it (exit 0 pass, 1 refused, 2 usage, 3 undecided)
      provenance classify BASE..HEAD       # what the release gate will demand
      provenance pending BASE..HEAD        # what still needs a human approval
      provenance approve COMMIT            # approve it, signed with your own identity
      provenance verify BASE..HEAD         # the release gate
      provenance show HEAD                 # what is stored, decoded, with status
      provenance revoke --skill D --reason R   # withdraw evidence by cause (then commit it)
    """
    level = logging.WARNING - 10 * verbose
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("provenance")
    log.handlers[:] = [handler]
    log.setLevel(max(level, logging.DEBUG))


def _register() -> None:
    from provenance._cli.approve import approve_cmd, pending_cmd
    from provenance._cli.audit import AUDIT_COMMANDS
    from provenance._cli.bundle import trust_root_group, verify_bundle_cmd
    from provenance._cli.classify import classify_cmd
    from provenance._cli.commands import init_cmd, show_cmd, stamp_cmd, verify_cmd
    from provenance._cli.demo import demo_cmd
    from provenance._cli.devinstance_cmd import devinstance
    from provenance._cli.link import link_cmd
    from provenance._cli.prompt import prompt_group
    from provenance._cli.prune import prune_cmd
    from provenance._cli.revocation import impact_cmd, revoke_cmd
    from provenance._cli.run import hooks_group, run_cmd

    for command in (
        init_cmd,
        stamp_cmd,
        classify_cmd,
        verify_cmd,
        approve_cmd,
        pending_cmd,
        show_cmd,
        link_cmd,
        demo_cmd,
        devinstance,
        *AUDIT_COMMANDS,
        verify_bundle_cmd,
        trust_root_group,
        run_cmd,
        hooks_group,
        prune_cmd,
        prompt_group,
        revoke_cmd,
        impact_cmd,
    ):
        cli.add_command(command)


def main() -> None:
    """Console entry point: map errors to the exit-code contract (0/1/2/3).

    Nothing is imported from the current directory afterwards (THREATS.md G54), and no
    program is looked up in it: relative and empty ``PATH`` entries are dropped for this
    process and every process it starts (THREATS.md G53).
    """
    sys.path[:] = without_working_directory(sys.path)
    os.environ["PATH"] = safe_search_path()
    _register()
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        echo("aborted", err=True)
        sys.exit(ExitCode.USAGE)
    except click.ClickException as e:
        e.show()
        sys.exit(ExitCode.USAGE)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except ProvenanceError as e:
        echo(f"error: {e.diagnostics()}", err=True)
        sys.exit(e.exit_code)
    except Exception as e:  # KeyboardInterrupt and SystemExit are not Exceptions: they pass
        # Exit 1 would read as a refusal: an unexpected failure decided nothing (exit 3).
        if os.environ.get("PROVENANCE_DEBUG"):
            raise
        name = type(e).__name__
        echo(f"error: internal error ({name}: {e}); nothing was decided", err=True)
        echo("  hint: rerun with PROVENANCE_DEBUG=1 for the traceback", err=True)
        sys.exit(ExitCode.UNDECIDED)


__all__ = ["cli", "main"]
