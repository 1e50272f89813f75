"""The agent never holds the human's terminal (THREATS.md G54/G55 (variant): TIOCSTI).

The red-team review's agent, running as another user under ``provenance run`` at an
interactive shell, pushed ``id -un > ...`` into the terminal's input with ``ioctl(TIOCSTI)``;
the human's shell ran it as root when the wrapper returned. Here the test is the human: it
opens a pseudo-terminal pair itself, starts the real ``provenance run`` console script with
the pair's slave as its controlling terminal, and afterwards looks at what waits in that
terminal's input.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.devinstance import DevInstance
from tests.app.test_run import GIT_IDENTITY
from tests.conftest import AGENT_ID, Golden, make_golden

PROVENANCE = str(Path(sys.executable).with_name("provenance"))
INJECTED = b"echo INJECTED-BY-THE-AGENT\n"
#: The agent: pushes a command into its controlling terminal and says which terminal that was;
#: or (``echo``) echoes the lines it reads from stdin up to "hi".
AGENT = """import fcntl, os, sys, termios
out = open({report!r}, "a")
while {echo!r}:
    line = sys.stdin.readline()
    print("agent read: " + line.strip(), flush=True)
    if not line or line.strip() == "hi":
        raise SystemExit(0)
try:
    fd = os.open("/dev/tty", os.O_RDWR)
except OSError as e:
    out.write("no-tty %s\\n" % e.errno)
    raise SystemExit(0)
out.write("tty %s\\n" % os.ttyname(fd))
try:
    for ch in {injected!r}:
        fcntl.ioctl(fd, termios.TIOCSTI, bytes([ch]))
    out.write("pushed\\n")
except OSError as e:
    out.write("refused %s\\n" % e.errno)
out.flush()
"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Golden:
    return make_golden(tmp_path_factory.mktemp("terminal"), dev)


@pytest.fixture
def workspace() -> Iterator[Path]:
    """A directory another user can read (the agent script) and write (its report)."""
    ws = Path(tempfile.mkdtemp(prefix="provenance-tty-", dir="/tmp"))
    ws.chmod(0o1777)
    try:
        yield ws
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def _legacy_tiocsti() -> bool:
    try:
        return Path("/proc/sys/dev/tty/legacy_tiocsti").read_text().strip() == "1"
    except OSError:
        return True  # kernels before 6.2 have no switch: TIOCSTI is always allowed


def _as_agent() -> list[str]:
    """Run the agent as another user when we can (the README's setup), else as ourselves."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return []
    try:
        entry = pwd.getpwnam("provenance-agent")
    except KeyError:
        return []
    return ["setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--clear-groups"]


def _run_on_terminal(
    lab: Golden, ws: Path, *, stdio: bool, typed: bytes = b"", echo: bool = False
) -> tuple[int, bytes, bytes, str, str]:
    """``provenance run`` with a fresh terminal as its controlling terminal.

    ``stdio``: the terminal is also stdin, stdout and stderr (an interactive shell); otherwise
    they are /dev/null and a pipe (``provenance run ... </dev/null >log`` at a terminal).
    Returns the exit status, the screen, the terminal's pending input, the agent's report and
    the terminal's name.
    """
    report = ws / "agent-report"
    agent = ws / "agent.py"
    agent.write_text(AGENT.format(report=str(report), injected=INJECTED, echo=echo))
    agent.chmod(0o644)
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env.update(GIT_IDENTITY)
    env["PROVENANCE_IDENTITY_TOKEN"] = lab.inst.issue_token(AGENT_ID)

    def take_terminal() -> None:
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)

    streams = (slave, slave, slave) if stdio else (subprocess.DEVNULL, subprocess.PIPE, None)
    proc = subprocess.Popen(
        [PROVENANCE, "run", "--agent", "a", "--model", "m", "--prompter", "p@example.com",
         "--prompt-digest", "sha256:" + "3" * 64, "--trust-config",
         str(lab.inst.trust_config_path), "--", *_as_agent(), sys.executable, "-I", str(agent)],
        cwd=lab.repo.path, env=env, stdin=streams[0], stdout=streams[1], stderr=streams[2],
        start_new_session=True, preexec_fn=take_terminal,
    )  # fmt: skip
    screen = b""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if typed and time.monotonic() > deadline - 58:
            os.write(master, typed)
            typed = b""
        readable, _, _ = select.select([master], [], [], 0.05)
        if readable:
            screen += os.read(master, 65536)
    status = proc.wait(timeout=30)
    if proc.stdout is not None:
        screen += proc.stdout.read()
    pending = _pending_input(slave)
    name = os.ttyname(slave)
    os.close(slave)
    os.close(master)
    return status, screen, pending, report.read_text() if report.exists() else "", name


def _pending_input(terminal: int) -> bytes:
    """What waits in the terminal's input queue: what the human's shell would read next."""
    count = struct.unpack("i", fcntl.ioctl(terminal, termios.FIONREAD, b"\0\0\0\0"))[0]
    if not count:
        return b""
    attrs = termios.tcgetattr(terminal)
    attrs[3] &= ~termios.ICANON
    termios.tcsetattr(terminal, termios.TCSANOW, attrs)
    return os.read(terminal, count)


@pytest.mark.skipif(not _legacy_tiocsti(), reason="TIOCSTI is off on this kernel")
def test_tiocsti_from_the_agent_never_reaches_the_humans_terminal(
    lab: Golden, workspace: Path
) -> None:
    """THREATS.md G54/G55 (variant): the agent's terminal is its own pseudo-terminal."""
    status, screen, pending, report, human_tty = _run_on_terminal(lab, workspace, stdio=True)
    assert INJECTED not in pending and pending == b"", (pending, screen, report)
    assert "pushed" in report and human_tty not in report, report  # into its own terminal
    assert status == 0, screen.decode(errors="replace")


def test_keys_reach_the_agent_and_its_output_comes_back(lab: Golden, workspace: Path) -> None:
    """The agent's own terminal still works: typed keys in, output out, nothing left over."""
    status, screen, pending, _, _ = _run_on_terminal(
        lab, workspace, stdio=True, typed=b"hi\r", echo=True
    )
    assert b"agent read: hi" in screen, screen
    assert status == 0 and pending == b"", screen


@pytest.mark.skipif(not _legacy_tiocsti(), reason="TIOCSTI is off on this kernel")
def test_an_agent_started_without_terminal_streams_gets_no_terminal(
    lab: Golden, workspace: Path
) -> None:
    """THREATS.md G54/G55 (variant): a new session, so not even ``/dev/tty`` is the human's."""
    status, screen, pending, report, _ = _run_on_terminal(lab, workspace, stdio=False)
    assert pending == b"", (pending, report)
    assert report.startswith("no-tty"), report
    assert status == 0, screen.decode(errors="replace")
