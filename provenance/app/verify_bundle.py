"""``verify-bundle``: any Sigstore DSSE bundle, the sigstore-conformance client protocol.

The artifact is a file or ``sha256:<hex>`` (``sha512:<hex>`` too, for in-toto subjects that
carry only SHA-512, as npm's do); the statement's subject must carry that digest, and the
signing certificate must name exactly the given identity at exactly the given issuer.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from provenance.errors import UsageError
from provenance.verify.envelope import parse_line
from provenance.verify.generic import GenericResult, verify_dsse_bundle
from provenance.verify.jsonstrict import loads_strict
from provenance.verify.reasons import Reason

_DIGEST = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")


@dataclass(frozen=True)
class BundleCheck:
    """The outcome and the digests the bundle's subject was matched against."""

    result: GenericResult
    digests: dict[str, str]

    @property
    def digest(self) -> str:
        """The artifact digest as ``alg:hex`` (sha256 when known)."""
        alg = "sha256" if "sha256" in self.digests else next(iter(self.digests))
        return f"{alg}:{self.digests[alg]}"


def artifact_digests(artifact: str) -> dict[str, str]:
    """``{alg: hex}`` of ``sha256:<hex>``/``sha512:<hex>``, or sha256 and sha512 of a file."""
    if artifact.startswith(("sha256:", "sha512:")):
        if not _DIGEST.match(artifact):
            raise UsageError(f"{artifact!r}: expected sha256:<64 lowercase hex digits>")
        alg, _, value = artifact.partition(":")
        return {alg: value}
    path = Path(artifact)
    if not path.is_file():
        raise UsageError(f"{artifact}: no such file (give a file or sha256:<hex>)")
    h256, h512 = hashlib.sha256(), hashlib.sha512()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h256.update(chunk)
            h512.update(chunk)
    return {"sha256": h256.hexdigest(), "sha512": h512.hexdigest()}


def _subject_digests(raw: bytes) -> dict[str, set[str]]:
    """Subject digests of a bundle whose signature already verified (its signed payload)."""
    statement = loads_strict(parse_line(raw.strip().replace(b"\n", b"")).payload)
    found: dict[str, set[str]] = {}
    for subject in statement.get("subject") or [] if isinstance(statement, dict) else []:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        for alg, value in (digest or {}).items() if isinstance(digest, dict) else []:
            if isinstance(value, str):
                found.setdefault(alg, set()).add(value)
    return found


def verify_bundle(
    bundle: Path,
    artifact: str,
    *,
    identity: str,
    issuer: str,
    trusted_root: Path | None = None,
    offline: bool = False,
) -> BundleCheck:
    """Verify ``bundle`` for ``artifact``; ``offline`` requires a pinned trusted root."""
    if offline and trusted_root is None:
        raise UsageError("--offline needs --trusted-root FILE (no TUF update without network)")
    digests = artifact_digests(artifact)
    try:
        raw = bundle.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read bundle {bundle}: {e.strerror}") from e
    only_sha256 = set(digests) == {"sha256"}  # the protocol's case: bound by the verifier
    result = verify_dsse_bundle(
        raw,
        identity=identity,
        issuer=issuer,
        trusted_root=trusted_root,
        subject_sha256=digests["sha256"] if only_sha256 else None,
    )
    if result.ok and not only_sha256:
        subjects = _subject_digests(raw)
        if not any(value in subjects.get(alg, set()) for alg, value in digests.items()):
            result = replace(result, reasons=(Reason.SUBJECT_MISMATCH.value,))
    return BundleCheck(result, digests)
