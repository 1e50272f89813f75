"""Which Sigstore trusted root is in use, and ``trust-root export`` to pin it.

One resolution for ``verify-bundle`` and ``trust-root export``, first match wins:
``--trusted-root FILE``, ``--trust-config FILE`` (or ``PROVENANCE_TRUST_CONFIG``), a
devinstance directory, then Sigstore's public-good instance (``--staging`` for staging):
refreshed through TUF, or with ``--offline`` the root shipped inside sigstore-python. The
bytes resolved are the bytes verified, so the digest a command reports names exactly the
root it used, and ``trust-root export`` writes exactly those bytes for an auditor to pin.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import ConfigError, TrustError, UsageError
from provenance.verify.sigstore_bundles import RootDocument, embedded_root, parse_root, tuf_root
from provenance.verify.trust import TrustSource

#: What ``provenance devinstance serve --dir DIR`` writes for verifiers.
DEVINSTANCE_ROOT = "trusted_root.json"


@dataclass(frozen=True)
class RootChoice:
    """Where the trusted root should come from (flags and environment, resolved once)."""

    trusted_root: Path | None = None
    trust_config: Path | None = None
    devinstance: Path | None = None
    staging: bool = False
    offline: bool = False


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise TrustError(f"cannot read {what} {path}: {e.strerror}") from e


def resolve_root(choice: RootChoice) -> RootDocument:
    """The trusted root bytes in use and a sentence naming their source.

    The document is parsed once here, so a file that is not a trusted root (a trust config
    given as ``--trusted-root``, say) fails now with exit 3 and a hint, not mid-verification.
    """
    if choice.trusted_root is not None:
        data = _read(choice.trusted_root, "trusted root")
        root = RootDocument(data, f"--trusted-root {choice.trusted_root}")
    elif choice.trust_config is not None:
        try:
            data = TrustSource(trust_config=choice.trust_config).document() or b""
        except ConfigError as e:
            raise TrustError(str(e), hint="pass a Sigstore client trust config") from e
        root = RootDocument(data, f"the trustedRoot of trust config {choice.trust_config}")
    elif choice.devinstance is not None:
        path = choice.devinstance / DEVINSTANCE_ROOT
        if not path.is_file():
            raise UsageError(
                f"{path} does not exist",
                hint=f"start the instance first: provenance devinstance serve --dir "
                f"{choice.devinstance}",
            )
        root = RootDocument(_read(path, "devinstance root"), f"devinstance {path}")
    else:
        instance = "staging" if choice.staging else "production"
        root = embedded_root(instance) if choice.offline else tuf_root(instance)
    parse_root(root)
    return root


@dataclass(frozen=True)
class Exported:
    """What ``trust-root export`` wrote."""

    out: Path
    root: RootDocument


def export_root(choice: RootChoice, out: Path, *, force: bool = False) -> Exported:
    """Write the resolved root to ``out`` atomically; an existing file needs ``force``.

    The bytes go to a temporary file beside ``out`` first; without ``force`` it is then
    hard-linked into place, which fails if ``out`` exists (even if it appeared meanwhile),
    and with ``force`` renamed over it. Readers never see a half-written root.
    """
    root = resolve_root(choice)
    if out.is_dir():
        raise UsageError(f"{out} is a directory", hint="name the file to write")
    if out.exists() and not force:
        raise UsageError(f"{out} exists", hint="pass --force to replace it")
    directory = out.parent if str(out.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{out.name}.")
    except OSError as e:
        raise UsageError(f"cannot write in {directory}: {e.strerror}") from e
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(root.data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, out)
        else:
            os.link(tmp, out)
    except FileExistsError as e:
        raise UsageError(f"{out} exists", hint="pass --force to replace it") from e
    except OSError as e:
        raise UsageError(f"cannot write {out}: {e.strerror}") from e
    finally:
        Path(tmp).unlink(missing_ok=True)
    return Exported(out, root)
