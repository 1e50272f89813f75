"""``provenance demo``: the whole story on this machine, narrated."""

from __future__ import annotations

from pathlib import Path

import click

from provenance._cli.output import echo, finish_verdict


@click.command("demo")
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(".demo"),
    show_default=True,
    help="Working directory (wiped and recreated).",
)
def demo_cmd(workdir: Path) -> None:
    """Run the end-to-end demo against a local Sigstore instance (no network needed).

    Starts a devinstance, creates a repository with an agent-written SSO change, shows the
    gate refusing it, stamps it, verifies it offline, then shows forgeries being refused.
    The story is the command's output, on stdout (`provenance demo | less` works); errors
    go to stderr.
    """
    from provenance.app.demo import run_demo

    ok = run_demo(workdir.resolve(), echo)
    finish_verdict(ok)
