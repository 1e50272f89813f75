"""Where a policy comes from: a file outside the repository, or a tree inside it (objects only)."""

from __future__ import annotations

import hashlib
import posixpath
from pathlib import Path

from provenance.errors import ConfigError
from provenance.gitio import Git
from provenance.gitio.objects import blob_at
from provenance.policy import POLICY_PATH, LoadedPolicy, load_policy_file, parse_policy


def load_policy_at(git: Git, rev: str) -> LoadedPolicy | None:
    """The policy committed at ``rev`` (``None`` if that tree has none); never the work tree."""
    raw = blob_at(git, rev, POLICY_PATH)
    if raw is None:
        return None
    base = posixpath.dirname(POLICY_PATH)

    def read(rel: str) -> bytes:
        path = posixpath.normpath(posixpath.join(base, rel))
        if not path.startswith(base + "/"):
            raise ConfigError(f"policy file reference {rel!r} leaves {base}/")
        data = blob_at(git, rev, path)
        if data is None:
            raise ConfigError(f"{rev}:{path} named by the policy does not exist")
        return data

    source = f"{rev[:12]}:{POLICY_PATH}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{source} is not UTF-8") from e
    policy = parse_policy(text, source=source)
    return LoadedPolicy(
        policy=policy,
        source=source,
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        read_file=read,
    )


def resolve_policy(git: Git, policy_file: Path | None, rev: str) -> LoadedPolicy:
    """``--policy FILE`` wins; otherwise the policy committed at ``rev``; none is an error."""
    if policy_file is not None:
        return load_policy_file(policy_file)
    loaded = load_policy_at(git, rev)
    if loaded is None:
        raise ConfigError(
            f"no {POLICY_PATH} at {rev[:12]} and no --policy given",
            hint="run `provenance init`, commit the policy, or pass --policy FILE",
        )
    return loaded
