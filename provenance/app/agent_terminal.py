"""The agent's terminal is never the human's: a new session, and its own pseudo-terminal.

A child that keeps the wrapper's controlling terminal can push a command into the human's
shell input with ``ioctl(TIOCSTI)`` (allowed while ``dev.tty.legacy_tiocsti=1``, the default
before Linux 6.2), which the shell runs as the human once ``provenance run`` returns; and a
child holding a terminal descriptor can read what the human types later, after it exits
(THREATS.md G54, G55). So the agent starts in a session of its own. When any of stdin,
stdout or stderr is a terminal, those are replaced by a pseudo-terminal the wrapper creates,
which becomes the agent's controlling terminal, and the wrapper copies bytes between it and
the real one (what ``sudo`` does with ``use_pty``): keys typed go to the agent (the real
terminal is in raw mode meanwhile, so Ctrl-C reaches the agent as a byte and its own
terminal turns it into SIGINT), its output comes back, and window size changes follow.
Descriptors that are not terminals are passed as they are; with none, the agent simply has
no terminal. When the agent exits, the pseudo-terminal is closed, which hangs up whatever
the agent left running on it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import signal
import subprocess
import termios
import tty
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

from provenance.errors import UsageError

_CHUNK = 65536
_POLL_SECONDS = 0.05
#: Output the agent leaves in its terminal after it exits is copied up to this much.
_DRAIN_LIMIT = 1 << 20


def _is_tty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def run_child(command: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> int:
    """Run the agent in its own session; forward SIGINT/SIGTERM/SIGHUP; 128+N on signal N."""
    ttys = [fd for fd in (0, 1, 2) if _is_tty(fd)]
    if not ttys:
        child = _start(command, env, cwd, {}, None)
        with _forwarding(child):
            status = child.wait()
        return 128 - status if status < 0 else status
    master, slave = os.openpty()
    try:
        _copy_terminal(ttys[0], slave)
        child = _start(command, env, cwd, dict.fromkeys(ttys, slave), slave)
    finally:
        os.close(slave)
    try:
        out = next((fd for fd in (1, 2) if fd in ttys), None)  # where the agent's screen goes
        with _forwarding(child), _raw(0 if 0 in ttys else None), _following_size(ttys[0], master):
            status = _proxy(child, master, 0 in ttys, out)
    finally:
        os.close(master)  # hangs up what the agent left running on its terminal
    return 128 - status if status < 0 else status


def _start(
    command: Sequence[str],
    env: dict[str, str],
    cwd: Path | None,
    stdio: dict[int, int],
    terminal: int | None,
) -> subprocess.Popen[bytes]:
    """Start ``command`` as the leader of a new session, ``terminal`` its controlling tty."""

    def take_terminal() -> None:  # in the child, after setsid(), before exec
        if terminal is not None:
            fcntl.ioctl(terminal, termios.TIOCSCTTY, 0)

    try:
        return subprocess.Popen(
            list(command),
            env=env,
            cwd=cwd,
            stdin=stdio.get(0),
            stdout=stdio.get(1),
            stderr=stdio.get(2),
            start_new_session=True,
            preexec_fn=take_terminal if terminal is not None else None,
        )
    except OSError as e:
        raise UsageError(f"cannot start {command[0]!r}: {e.strerror}") from e


@contextlib.contextmanager
def _forwarding(child: subprocess.Popen[bytes]) -> Iterator[None]:
    """Forward SIGINT, SIGTERM and SIGHUP to the agent (it no longer shares our terminal)."""

    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    handled = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, forward) for s in handled}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _copy_terminal(real: int, pty: int) -> None:
    """Give the agent's terminal the modes and window size of the real one."""
    with contextlib.suppress(termios.error, OSError):
        termios.tcsetattr(pty, termios.TCSANOW, termios.tcgetattr(real))
    _copy_size(real, pty)


def _copy_size(real: int, pty: int) -> None:
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(real, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(pty, termios.TIOCSWINSZ, size)


@contextlib.contextmanager
def _raw(fd: int | None) -> Iterator[None]:
    """The real terminal in raw mode while the agent's terminal does the line editing."""
    saved = None
    if fd is not None:
        with contextlib.suppress(termios.error):
            saved = termios.tcgetattr(fd)
            tty.setraw(fd, termios.TCSANOW)
    try:
        yield
    finally:
        if saved is not None and fd is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)  # keeps typeahead


@contextlib.contextmanager
def _following_size(real: int, master: int) -> Iterator[None]:
    """Pass window size changes of the real terminal on to the agent's."""

    def resized(_signum: int, _frame: FrameType | None) -> None:
        _copy_size(real, master)

    previous = signal.signal(signal.SIGWINCH, resized)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous if previous is not None else signal.SIG_DFL)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data) :]
        except InterruptedError:
            continue


def _proxy(child: subprocess.Popen[bytes], master: int, keys: bool, out: int | None) -> int:
    """Copy keys to the agent's terminal and its output back until the agent exits."""
    reading_keys = keys
    while child.poll() is None:
        ready = [master, *([0] if reading_keys else [])]
        try:
            readable, _, _ = select.select(ready, [], [], _POLL_SECONDS)
        except InterruptedError:
            continue
        if master in readable and not _copy_output(master, out):
            break  # every descriptor of the agent's terminal is closed
        if 0 in readable:
            data = os.read(0, _CHUNK)
            if data:
                _write_all(master, data)
            else:
                reading_keys = False
    status = child.wait()
    _drain(master, out)
    return status


def _copy_output(master: int, out: int | None) -> bool:
    """Copy what the agent wrote; ``False`` once its terminal is closed on every side."""
    try:
        data = os.read(master, _CHUNK)
    except OSError as e:
        if e.errno == errno.EIO:
            return False
        raise
    if out is not None and data:
        _write_all(out, data)
    return bool(data)


def _drain(master: int, out: int | None) -> None:
    """What the agent wrote just before it exited, without waiting for anything left running."""
    copied = 0
    while copied < _DRAIN_LIMIT:
        readable, _, _ = select.select([master], [], [], 0)
        if not readable:
            return
        try:
            data = os.read(master, _CHUNK)
        except OSError:
            return
        if not data:
            return
        copied += len(data)
        if out is not None:
            _write_all(out, data)
