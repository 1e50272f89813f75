"""What an agent session brings besides the commit: prompt salt, stored prompt, skills, config.

Everything here is read before anything is signed, and every refusal happens before signing:
a prompt that contains a secret is never stored, and a salt kept inside the repository (where
it would be committed) is never used.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import ConfigError, UsageError
from provenance.gitio import Git
from provenance.gitio.batch import read_objects
from provenance.predicates import ResourceDescriptor, StoredPrompt
from provenance.safefiles import unsafe_reason

#: Salts shorter than this make a short prompt guessable again.
MIN_SALT_BYTES = 16
#: A stored prompt is part of a signed line; keep it far below the store's line bound.
MAX_STORED_PROMPT = 65536

#: Agent configuration recorded when present at the commit: exact files, and directories whose
#: files are all recorded (at most ``MAX_CONFIG_FILES``). Only these paths, from the root.
AGENT_CONFIG_FILES = (
    "AGENTS.md",
    "AGENTS.override.md",
    "CLAUDE.md",
    "GEMINI.md",
    ".mcp.json",
    ".claude/settings.json",
    ".cursor/mcp.json",
    ".cursorrules",
    ".windsurfrules",
    ".clinerules",
    ".vscode/mcp.json",
    ".gemini/settings.json",
    ".codex/config.toml",
    ".github/copilot-instructions.md",
)
AGENT_CONFIG_DIRS = (
    ".claude/agents",
    ".claude/commands",
    ".claude/skills",
    ".cursor/rules",
    ".github/instructions",
    ".github/prompts",
)
MAX_CONFIG_FILES = 256


class PromptSecretError(UsageError):
    """The prompt to store contains something that looks like a secret (exit 2)."""


# --------------------------------------------------------------------------- prompt salt


def salt_dir() -> Path:
    """``$XDG_CONFIG_HOME/provenance/salts`` (default ``~/.config/provenance/salts``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "provenance" / "salts"


def repository_salt_id(repository: str) -> str:
    """The file name of a repository's salt: sha256 of its URI, 32 hex digits."""
    return hashlib.sha256(repository.encode()).hexdigest()[:32]


def _refuse_inside(path: Path, work_tree: Path | None) -> None:
    if work_tree is None:
        return
    resolved, tree = path.resolve(), work_tree.resolve()
    if resolved == tree or tree in resolved.parents:
        raise UsageError(
            f"the prompt salt {path} is inside the repository, where it could be committed",
            hint="keep the salt outside the work tree (default: "
            "$XDG_CONFIG_HOME/provenance/salts/)",
        )


def read_salt(path: Path, work_tree: Path | None = None) -> bytes:
    """A salt file: outside the work tree, readable by its owner only, ≥ 16 bytes."""
    _refuse_inside(path, work_tree)
    try:
        st = path.stat()
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read prompt salt {path}: {e.strerror}") from e
    if st.st_mode & 0o077:
        raise ConfigError(
            f"prompt salt {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o})",
            hint=f"chmod 600 {path}",
        )
    problem = unsafe_reason(path)  # an agent that could replace it would know the salt
    if problem:
        raise ConfigError(f"prompt salt: {problem}", hint="keep it in a directory only you write")
    if len(data) < MIN_SALT_BYTES:
        raise UsageError(f"prompt salt {path} is shorter than {MIN_SALT_BYTES} bytes")
    return data


def repository_salt(repository: str, work_tree: Path | None = None) -> tuple[Path, bytes]:
    """The per-repository salt, created (32 random bytes, mode 0600) on first use."""
    directory = salt_dir()
    path = directory / repository_salt_id(repository)
    _refuse_inside(path, work_tree)
    if not path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # a concurrent first use won; read what it wrote
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(32))
    return path, read_salt(path, work_tree)


# --------------------------------------------------------------------------- secret scanning


@dataclass(frozen=True)
class Finding:
    """A suspected secret: what kind and on which line (never the value)."""

    kind: str
    line: int


_EXTRA_CHECKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Private key block", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b")),
    ("Bearer credential", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{20,}")),
    (
        "Credential assignment",
        re.compile(
            r"(?i)\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|client[_-]?secret"
            r"|private[_-]?key|auth[_-]?token|access[_-]?token)\b\s*[:=]\s*['\"]?[^\s'\"]{8,}"
        ),
    ),
    ("Credentials in URL", re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]{3,}@")),
    # Well-known token formats the scanner's plugins miss in prose (checked in review).
    ("Anthropic API key", re.compile(r"\bsk-ant-[A-Za-z0-9_-]{20,}")),
    ("OpenAI-style API key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}")),
    ("GitHub token", re.compile(r"\b(?:github_pat_[A-Za-z0-9_]{40,}|gh[pousr]_[A-Za-z0-9]{36,})")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    # 256-bit hex keys; a digest written as sha256:HEX is not one.
    ("Long hex secret", re.compile(r"(?<![0-9a-fA-F:])[0-9a-fA-F]{64}(?![0-9a-fA-F])")),
)


def scanner_name() -> str:
    """The scanner recorded next to a stored prompt."""
    from detect_secrets.__version__ import VERSION

    return f"detect-secrets {VERSION} + provenance checks"


def scan_for_secrets(text: str) -> list[Finding]:
    """detect-secrets' default plugins and filters, plus a few cheap extra patterns.

    detect-secrets scans files (its ad-hoc string mode reports every long word as high
    entropy), so the text goes through a private temporary file that is removed at once.
    """
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings

    findings: set[Finding] = set()
    with tempfile.TemporaryDirectory(prefix="provenance-scan-") as tmp:
        target = Path(tmp) / "prompt.txt"
        target.write_text(text, encoding="utf-8")
        with default_settings():
            collection = SecretsCollection(root=tmp)
            collection.scan_file("prompt.txt")
            for filename in collection.files:
                for secret in collection[filename]:
                    findings.add(Finding(secret.type, secret.line_number))
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in _EXTRA_CHECKS:
            if pattern.search(line):
                findings.add(Finding(kind, number))
    return sorted(findings, key=lambda f: (f.line, f.kind))


def stored_prompt(data: bytes) -> StoredPrompt:
    """The prompt text to keep in the predicate, or :class:`PromptSecretError`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError("--store-prompt needs a UTF-8 prompt") from e
    if len(text) > MAX_STORED_PROMPT:
        raise UsageError(f"--store-prompt: the prompt exceeds {MAX_STORED_PROMPT} characters")
    findings = scan_for_secrets(text)
    if findings:
        where = ", ".join(f"line {f.line}: {f.kind}" for f in findings[:10])
        raise PromptSecretError(
            f"the prompt looks like it contains a secret ({where}); nothing was signed",
            hint="remove the secret from the prompt, or stamp without --store-prompt "
            "(only a commitment to the prompt is recorded then)",
        )
    return StoredPrompt(text=text, scanner=scanner_name())


# --------------------------------------------------------------------------- skills


def front_matter(text: str) -> dict[str, str]:
    """``key: value`` pairs of a ``---``-fenced front matter (one nesting level, as ``a.b``).

    Deliberately not YAML: only plain scalars are read, quotes are stripped, anything else
    (lists, block scalars, deeper nesting) is ignored.
    """
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    out: dict[str, str] = {}
    parent: str | None = None
    for line in lines[1:]:
        if line.strip() in ("---", "..."):
            return out
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_.-]+)\s*:\s*(.*?)\s*$", line)
        if not m:
            continue
        indent, key, value = m.groups()
        if value.startswith(("'", '"')) and len(value) >= 2 and value[-1] == value[0]:
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if not indent:
            parent = None if value else key
            if value:
                out[key] = value
        elif parent is not None and value:
            out.setdefault(f"{parent}.{key}", value)
    return {}  # no closing fence: not front matter


def skill_metadata(directory: Path) -> tuple[str | None, str | None]:
    """(name, version) from ``SKILL.md`` front matter (``version`` or ``metadata.version``)."""
    skill_md = directory / "SKILL.md"
    try:
        with skill_md.open("rb") as f:
            text = f.read(MAX_STORED_PROMPT).decode("utf-8", errors="replace")
    except OSError:
        return None, None
    meta = front_matter(text)
    return meta.get("name") or None, meta.get("version") or meta.get("metadata.version") or None


# --------------------------------------------------------------------------- agent config


def agent_config_at(git: Git, commit: str) -> list[ResourceDescriptor]:
    """Agent configuration files present in ``commit``'s tree, pinned by sha256 of the blob."""
    out = git.out(
        "ls-tree", "-r", "-z", "--full-tree", commit, "--", *AGENT_CONFIG_FILES, *AGENT_CONFIG_DIRS
    )
    entries: list[tuple[str, str]] = []
    for record in out.split(b"\x00"):
        meta, _, path = record.partition(b"\t")
        fields = meta.split()
        if len(fields) == 3 and fields[1] == b"blob":
            entries.append((fields[2].decode(), path.decode("utf-8", "surrogateescape")))
    entries = sorted(entries, key=lambda e: e[1])[:MAX_CONFIG_FILES]
    if not entries:
        return []
    digests: dict[str, str] = {}
    for oid, _, data in read_objects(git, [oid for oid, _ in entries]):
        if data is not None:
            digests[oid] = hashlib.sha256(data).hexdigest()
    return [
        ResourceDescriptor(
            name=path,
            uri=f"git:{path}",
            digest={"sha256": digests[oid]},
            annotations={"gitBlob": oid},
        )
        for oid, path in entries
        if oid in digests
    ]
