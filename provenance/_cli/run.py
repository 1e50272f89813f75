"""run, hooks: wrap an agent session, and the hook that marks its commits."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from provenance._cli.options import ask_passphrase, read_token, repo_option, signing_options
from provenance._cli.output import Reporter, document_failure, echo, finish
from provenance._cli.prompt import apply_prompter, prompter_options
from provenance.display import shown
from provenance.errors import UsageError
from provenance.reasons import ExitCode

if TYPE_CHECKING:
    from provenance.app.run import RunResult
    from provenance.app.session import CaptureOptions
    from provenance.sign.signing import SigningOptions

F = TypeVar("F", bound=Callable[..., Any])


def capture_options(required: bool) -> Callable[[F], F]:
    """Agent, model, prompter, prompt commitment and skills, as ``stamp`` and ``run`` take them."""

    def deco(f: F) -> F:
        for option in reversed(
            [
                click.option(
                    "--agent",
                    required=required,
                    metavar="TOOL[@VERSION]",
                    help="Agent tool, e.g. claude-code@2.1.",
                ),
                click.option("--model", required=required, metavar="ID", help="Model id."),
                click.option(
                    "--prompter",
                    required=required,
                    metavar="IDENTITY",
                    help="Human who prompted the agent.",
                ),
                click.option(
                    "--prompt-file",
                    type=click.Path(exists=True, dir_okay=False, path_type=Path),
                    help="Prompt text; only a commitment (sha256 or HMAC) is recorded.",
                ),
                click.option(
                    "--prompt-digest", metavar="sha256:HEX", help="Commitment computed elsewhere."
                ),
                click.option(
                    "--prompt-salt-file",
                    type=click.Path(exists=True, dir_okay=False, path_type=Path),
                    help="Commit to the prompt with HMAC-SHA256 keyed by this salt (kept "
                    "outside the repository, mode 0600, at least 16 bytes).",
                ),
                click.option(
                    "--salted",
                    is_flag=True,
                    help="HMAC with the per-repository salt in "
                    "$XDG_CONFIG_HOME/provenance/salts/ (created 0600 on first use).",
                ),
                click.option(
                    "--store-prompt",
                    is_flag=True,
                    help="Also keep the prompt text in the attestation, after a secret scan "
                    "(detect-secrets); refuses when anything looks like a secret.",
                ),
                click.option("--session-id", metavar="ID", help="Agent session id."),
                click.option(
                    "--skill",
                    "skills",
                    multiple=True,
                    metavar="PATH|NAME@VERSION",
                    help="Skill package used (a directory is digested; name and version come "
                    "from its SKILL.md front matter). Repeatable.",
                ),
            ]
        ):
            f = option(f)
        return f

    return deco


def capture_from(kwargs: dict[str, Any]) -> CaptureOptions:
    """Pop the capture options out of a command's keyword arguments."""
    from provenance.app.session import CaptureOptions

    missing = [n for n in ("agent", "model", "prompter") if not kwargs.get(n)]
    if missing:
        raise UsageError("missing " + ", ".join(f"--{n}" for n in missing))
    return CaptureOptions(
        agent=kwargs.pop("agent"),
        model=kwargs.pop("model"),
        prompter=kwargs.pop("prompter"),
        prompt_file=kwargs.pop("prompt_file"),
        prompt_digest=kwargs.pop("prompt_digest"),
        session_id=kwargs.pop("session_id"),
        skills=tuple(kwargs.pop("skills")),
        salt_file=kwargs.pop("prompt_salt_file"),
        salted=kwargs.pop("salted"),
        store_prompt=kwargs.pop("store_prompt"),
    )


def _token_from_command_line(ctx: click.Context, value: str | None) -> bool:
    source = ctx.get_parameter_source("identity_token")
    return (
        bool(value)
        and not str(value).startswith("@")
        and (source == click.core.ParameterSource.COMMANDLINE)
    )


def _summary(result: RunResult) -> dict[str, Any]:
    """The ``--report`` document (schema: ``schemas/run-report.v1.json``)."""
    return {
        "result": "pending" if result.pending else "complete",
        "session_id": result.session_id,
        "exit_status": result.exit_status,
        "started_at": result.started_at.isoformat(),
        "ended_at": result.ended_at.isoformat(),
        "head_before": result.before.head,
        "head_after": result.after.head,
        "branch_before": result.before.branch,
        "branch_after": result.after.branch,
        "stamped": [
            {"commit": s.commit, "digest": s.digest, "signer": s.signer} for s in result.stamped
        ],
        "pending": [{"commit": c, "reason": r} for c, r in result.pending],
        "skipped": [{"commit": c, "reason": r} for c, r in result.skipped],
        "rewritten_or_dropped": result.dropped,
        "undecided": result.undecided,
    }


def _render(result: RunResult) -> None:
    def say(text: str) -> None:
        echo(f"provenance: {text}", err=True)

    for s in result.stamped:
        say(f"stamped {s.commit[:12]} signed by {shown(s.signer)}")
    for commit, reason in result.skipped:
        say(f"not stamped {commit[:12]}: {shown(reason)}")
    if result.dropped:
        say(f"the session rewrote or dropped {len(result.dropped)} earlier commit(s):")
        for commit in result.dropped:
            say(f"  {commit}")
    for note in result.undecided:
        say(f"undecided: {shown(note)}")
    if result.before.branch != result.after.branch:
        say(f"HEAD moved from {shown(result.before.branch)} to {shown(result.after.branch)}")
    for commit, reason in result.pending:
        say(f"PENDING {commit[:12]}: {shown(reason.splitlines()[0])}")
    if result.pending:
        say("signing failed; complete later with `provenance stamp --pending`")
    if not (result.stamped or result.pending):
        say("nothing to stamp" if result.skipped else "the session made no commit")
    say(f"session {result.session_id}: agent exited with status {result.exit_status}")


@click.command(
    "run",
    context_settings={"allow_interspersed_args": False},
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- COMMAND")
@repo_option
@capture_options(required=True)
@prompter_options
@click.option(
    "--withhold",
    multiple=True,
    metavar="NAME|GLOB",
    help="Also withhold this environment variable from the agent (repeatable; globs allowed).",
)
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JSON summary of the session (stamped, pending, rewritten commits) here.",
)
@signing_options
@click.pass_context
def run_cmd(
    ctx: click.Context,
    /,
    command: tuple[str, ...],
    repo: Path,
    withhold: tuple[str, ...],
    report: Path | None,
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
    **capture: Any,
) -> None:
    """Run an agent as a child process, then stamp every commit it made.

    The agent never sees the signing credential: PROVENANCE_IDENTITY_TOKEN, SIGSTORE_ID_TOKEN,
    CI OIDC request variables (ACTIONS_ID_TOKEN_REQUEST_*, CI_JOB_JWT*, *_ID_TOKEN, ...) and
    cloud credential files are removed from its environment; PROVENANCE_SESSION and
    PROVENANCE_ASSISTED_BY are set. The token, trust config, keys and the signing code are
    loaded before the agent starts. Afterwards every new commit (oldest first, merges
    included) that the session's git identity committed during the session is stamped with
    the session id, its start and end time and the agent's exit status; other new commits (a
    colleague's, pulled) are listed, not stamped. Commits the agent rewrote or dropped are
    listed. Exit status: the agent's, or 3 when signing failed (the commits are then pending:
    `provenance stamp --pending` completes them). --report FILE gets a JSON summary
    (schemas/run-report.v1.json), or "result": "error" when the run failed before that.

    \b
    Example:
      provenance run --agent claude-code@2.1.0 --model claude-opus-4 \\
          --prompter alice@example.com --prompt-file task.md \\
          --identity-token @/run/secrets/agent-token -- claude -p "$(cat task.md)"
    """
    out = Reporter("json", report, flag="--report") if report is not None else None
    try:
        result = _run(ctx, command, repo, withhold, identity_token, trust_config, key,
                      public_key, capture)  # fmt: skip
        _render(result)
        if out is not None:
            out.write(json.dumps(_summary(result), indent=2))
    except BaseException as e:  # a stale or missing report must never pass for this run's
        if out is not None:
            document_failure(out, e)
        raise
    finish(ExitCode.UNDECIDED if result.pending else result.exit_status)


def _run(
    ctx: click.Context,
    command: tuple[str, ...],
    repo: Path,
    withhold: tuple[str, ...],
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
    capture: dict[str, Any],
) -> RunResult:
    """``run`` itself: credentials withheld first, the session pinned, the agent run."""
    from provenance.app.credentials import withheld_from_children
    from provenance.app.run import run_session
    from provenance.app.session import build_session
    from provenance.sign.signing import SigningOptions

    if _token_from_command_line(ctx, identity_token):
        raise UsageError(
            "a token on the command line is visible to the agent (/proc/PID/cmdline)",
            hint="pass --identity-token @FILE or set PROVENANCE_IDENTITY_TOKEN",
        )
    # First of all: credentials out of the environment and the process non-dumpable, so no
    # git process started while the session is prepared carries them either.
    with withheld_from_children(withhold) as withheld:
        session = build_session(repo, capture_from(capture))
        session = apply_prompter(repo, session, capture, trust_config)  # before the agent runs
        signing = SigningOptions(
            passphrase=ask_passphrase,
            key=key,
            public_key=public_key,
            identity_token=read_token(identity_token),
            trust_config=trust_config,
        )
        return run_session(repo, command, session, signing, withhold=withhold, withheld=withheld)


def complete_pending_cmd(repo: Path, signing: SigningOptions, capture: dict[str, Any]) -> None:
    """``stamp --pending``: the stored statements are signed as they are, so no session."""
    from provenance.app.pending_stamps import complete_pending

    given = sorted(k for k, v in capture.items() if v not in (None, False, ()))
    if given:
        flags = ", ".join("--" + k.replace("_", "-") for k in given)
        raise UsageError(f"--pending signs the stored statements; {flags} cannot apply")
    done = complete_pending(repo, signing)
    for s in done.completed:
        echo(s.digest)
        echo(f"completed {s.commit[:12]} signed by {s.signer}", err=True)
    for sha in done.already_stored:
        echo(f"completed {sha[:12]} (its attestation was already stored)", err=True)
    for sha, reason in done.invalid:
        echo(
            f"cannot complete {sha[:12]}: {reason}; stamp it anew, or drop the entry with "
            f"`git notes --ref=refs/notes/provenance-pending remove {sha}`",
            err=True,
        )
    for sha, reason in done.failed:
        echo(f"still pending {sha[:12]}: {reason.splitlines()[0]}", err=True)
    if not (done.completed or done.already_stored or done.invalid or done.failed):
        echo("nothing is pending", err=True)
    if not done:
        finish(ExitCode.UNDECIDED)


@click.group("hooks")
def hooks_group() -> None:
    """Install git hooks: the Assisted-by trailer on agent commits, or a pre-push check."""


_PRE_PUSH = click.option(
    "--pre-push",
    is_flag=True,
    help="The pre-push hook instead: refuse to push commits the gate would refuse.",
)


@hooks_group.command("install")
@repo_option
@click.option("--force", is_flag=True, help="Replace an existing hook of that name.")
@click.option("--chain", is_flag=True, help="Keep an existing hook and run it first.")
@_PRE_PUSH
def hooks_install_cmd(repo: Path, force: bool, chain: bool, pre_push: bool) -> None:
    """Write a prepare-commit-msg hook adding `Assisted-by: TOOL:MODEL` during `provenance run`,
    a post-rewrite hook linking amended and rebased commits (squash and fixup included) to the
    commits they replace, and a post-commit hook linking a `cherry-pick -x` to its source
    (`provenance link`; the gate recomputes every link). With --pre-push, instead, a pre-push
    hook that runs `provenance verify` on the commits being pushed and refuses the push
    unless the gate would pass them.

    An existing hook not written by provenance is never overwritten silently: the command
    refuses unless --force (replace) or --chain (run it first) is given. The trailer is for
    people; the gate can compare it with the attestations (policy [agents] trailer). The
    pre-push check is an early warning (`git push --no-verify` skips it); the release gate
    enforces. Hooks run provenance with the Python that installed them (never one found on
    PATH) and find the trusted root as `verify` does.
    """
    from provenance.app.hooks import PRE_PUSH_HOOK, PREPARE_COMMIT_MSG_HOOK, install_hook

    kind = PRE_PUSH_HOOK if pre_push else PREPARE_COMMIT_MSG_HOOK
    done = install_hook(repo, force=force, chain=chain, kind=kind)
    extra = f" (runs {done.chained.name} first)" if done.chained else ""
    extra += " (replaced the previous hook)" if done.replaced else ""
    echo(f"installed {done.path}{extra}", err=True)


@hooks_group.command("uninstall")
@repo_option
@_PRE_PUSH
def hooks_uninstall_cmd(repo: Path, pre_push: bool) -> None:
    """Remove the provenance hooks, or with --pre-push the pre-push hook (chained ones put back)."""
    from provenance.app.hooks import PRE_PUSH_HOOK, PREPARE_COMMIT_MSG_HOOK, uninstall_hook

    removed = uninstall_hook(repo, PRE_PUSH_HOOK if pre_push else PREPARE_COMMIT_MSG_HOOK)
    echo(f"removed {removed}" if removed else "no provenance hook installed", err=True)
