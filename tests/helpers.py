"""Builders for real git repositories in temporary directories."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ENV = {
    "GIT_AUTHOR_NAME": "Dev Human",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev Human",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


#: The committed JSON Schemas (generated from the models by scripts/gen-schemas).
SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def check_document(schema: str, document: Any) -> Any:
    """Validate a real output against ``schemas/<schema>.v1.json``; return the document.

    Draft 2020-12 with formats; a failure names the first error's path and message.
    """
    from jsonschema import Draft202012Validator

    spec = json.loads((SCHEMAS / f"{schema}.v1.json").read_text())
    validator = Draft202012Validator(spec, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message[:300]) for e in errors[:3]]
    return document


#: Real public Sigstore bundles and their manifest (``../shared`` beside the clone).
INTEROP = Path(__file__).resolve().parents[1].parent / "shared" / "interop" / "sigstore-bundles"


def interop_cases() -> list[dict[str, Any]]:
    """The manifest's cases; none when the shared directory is absent."""
    manifest = INTEROP / "manifest.json"
    if not manifest.exists():
        return []
    cases: list[dict[str, Any]] = json.loads(manifest.read_text())["cases"]
    return cases


@dataclass(frozen=True)
class Result:
    """What one CLI process did."""

    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.stdout, self.stderr
        return json.loads(self.stdout)


@dataclass
class GitRepo:
    """A throwaway repository driven with the real git CLI."""

    path: Path

    @classmethod
    def init(cls, path: Path, *, bare: bool = False) -> GitRepo:
        path.mkdir(parents=True, exist_ok=True)
        args = ["init", "-q", "-b", "main"] + (["--bare"] if bare else [])
        repo = cls(path)
        repo.git(*args)
        return repo

    def git(self, *args: str, input: bytes | None = None, env: dict[str, str] | None = None) -> str:
        full_env = {**os.environ, **_ENV, "HOME": str(self.path), **(env or {})}
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            input=input,
            capture_output=True,
            env=full_env,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {args} failed: {proc.stderr.decode()}")
        return proc.stdout.decode().strip()

    def write(self, rel: str, content: str) -> None:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)

    def commit(self, message: str, files: dict[str, str] | None = None, **env: str) -> str:
        for rel, content in (files or {}).items():
            self.write(rel, content)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env or None)
        return self.git("rev-parse", "HEAD")


SSO_CALLBACK = '''"""SSO callback written by an agent."""

from authlib.integrations.flask_client import OAuth

oauth = OAuth()


def callback(request):
    token = oauth.idp.authorize_access_token()
    if token["state"] != request.session.pop("oauth_state"):
        raise PermissionError("state mismatch")
    request.session["user"] = token["userinfo"]["email"]
'''
