"""A throwaway PostgreSQL server for the tests: Debian's binaries, a temporary directory,
a loopback port, stopped and deleted at the end.

``scripts/test`` starts one for the whole run (``python -m tests.postgres start`` prints
the ``export`` lines; ``stop DIR`` ends it) and the tests connect to the URL in
``PROVENANCE_TEST_POSTGRES_URL``; set that variable yourself to use an existing server (a
role that may create databases and roles). PostgreSQL refuses to run as root, so as root the
server runs as the unprivileged system user ``provenance-pg`` (created when missing).
Durability is off (``fsync``, ``synchronous_commit``, ``full_page_writes``): the data dies
with the directory anyway, and the tests are about transactions and locks, not disks.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV_URL = "PROVENANCE_TEST_POSTGRES_URL"
ENV_DIR = "PROVENANCE_TEST_POSTGRES_DIR"
SERVICE_USER = "provenance-pg"
SUPERUSER = "provenance"


class NoServer(Exception):
    """No PostgreSQL could be started here (the reason is the message)."""


@dataclass(frozen=True)
class Server:
    """A running throwaway server."""

    directory: Path
    url: str


def find_bindir() -> Path | None:
    """``initdb``'s directory: ``PG_BINDIR``, ``pg_config --bindir``, or Debian's newest."""
    given = os.environ.get("PG_BINDIR")
    candidates = [Path(given)] if given else []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    candidates += [Path(p) for p in reversed(found)]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


def _service_user() -> pwd.struct_passwd | None:
    """As root: the unprivileged user the server runs as (created when missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
             "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True, capture_output=True,
        )  # fmt: skip
        return pwd.getpwnam(SERVICE_USER)


def _run(argv: list[str], user: pwd.struct_passwd | None, home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    kwargs: dict[str, object] = {}
    if user is not None:
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=home, **kwargs)  # type: ignore[call-overload]
    if proc.returncode != 0:
        raise NoServer(
            f"{Path(argv[0]).name} failed: {(proc.stderr or proc.stdout).strip()[-800:]}"
        )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start() -> Server:
    """initdb + pg_ctl start in a new temporary directory; raises :class:`NoServer`."""
    bindir = find_bindir()
    if bindir is None:
        raise NoServer("no PostgreSQL binaries (apt-get install postgresql, or set PG_BINDIR)")
    user = _service_user()
    directory = Path(tempfile.mkdtemp(prefix="provenance-pg-"))
    if user is not None:
        os.chown(directory, user.pw_uid, user.pw_gid)
    password = secrets.token_urlsafe(18)
    pwfile = directory / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o600)
    if user is not None:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    data = directory / "data"
    _run([str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--pwfile", str(pwfile),
          "-E", "UTF8", "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256"],
         user, directory)  # fmt: skip
    pwfile.unlink()
    settings = [
        "listen_addresses=127.0.0.1", f"unix_socket_directories={directory}", "fsync=off",
        "synchronous_commit=off", "full_page_writes=off", "max_connections=200",
        "shared_buffers=128MB",
    ]  # fmt: skip
    for attempt in range(5):
        port = _free_port()
        options = " ".join(f"-c {s}" for s in [*settings, f"port={port}"])
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"), "-w",
                  "-t", "60", "-o", options, "start"], user, directory)  # fmt: skip
            break
        except NoServer:
            if attempt == 4:
                shutil.rmtree(directory, ignore_errors=True)
                raise
    meta = {"bindir": str(bindir), "user": user.pw_name if user else None}
    (directory / "server.json").write_text(json.dumps(meta))
    return Server(directory, f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/postgres")


def stop(directory: Path) -> None:
    """Stop the server started in ``directory`` and delete it (quietly if already gone)."""
    meta_file = directory / "server.json"
    if meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        user = pwd.getpwnam(meta["user"]) if meta.get("user") else None
        with contextlib.suppress(NoServer):
            _run([str(Path(meta["bindir"]) / "pg_ctl"), "-D", str(directory / "data"), "-m",
                  "immediate", "-w", "stop"], user, directory)  # fmt: skip
    shutil.rmtree(directory, ignore_errors=True)


def create_database(admin_url: str) -> str:
    """A new empty database on the server of ``admin_url``; its URL (same credentials)."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the database ``url`` names (connections to it are ended first)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def main(argv: list[str]) -> int:
    """``start``: print ``export`` lines for a shell; ``stop DIR``: stop and delete."""
    if argv[:1] == ["start"]:
        try:
            server = start()
        except NoServer as e:
            print(f"postgres: {e}", file=sys.stderr)
            return 1
        print(f"export {ENV_URL}='{server.url}'")
        print(f"export {ENV_DIR}='{server.directory}'")
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        stop(Path(argv[1]))
        return 0
    print("usage: python -m tests.postgres start | stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
