"""``verify-bundle``: any Sigstore bundle, the sigstore-conformance client protocol.

The artifact is a file or ``sha256:<hex>`` (``sha512:<hex>`` too, for in-toto subjects that
carry only SHA-512, as npm's do). A DSSE bundle's statement must name that digest as a
subject; a message signature must be over it. The signer is an exact certificate identity
at an exact issuer, or a public key (``--key``) for managed-key bundles.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

from provenance.app.trust_root import RootChoice, resolve_root
from provenance.errors import UsageError
from provenance.reasons import Reason
from provenance.verify.anybundle import Expected, verify_any_bundle
from provenance.verify.envelope import parse_line
from provenance.verify.generic import GenericResult
from provenance.verify.jsonstrict import loads_strict
from provenance.verify.keybundle import load_public_key
from provenance.verify.sigstore_bundles import ArtifactVerifier, RootDocument, parse_root

_DIGEST = re.compile(r"^(sha256:[0-9a-fA-F]{64}|sha512:[0-9a-fA-F]{128})$")


@dataclass(frozen=True)
class BundleCheck:
    """The outcome and the digests the bundle's subject was matched against."""

    result: GenericResult
    digests: dict[str, str]
    root: RootDocument

    @property
    def digest(self) -> str:
        """The artifact digest as ``alg:hex`` (sha256 when known)."""
        alg = "sha256" if "sha256" in self.digests else next(iter(self.digests))
        return f"{alg}:{self.digests[alg]}"


def artifact_digests(artifact: str) -> dict[str, str]:
    """``{alg: hex}`` of ``sha256:<hex>``/``sha512:<hex>``, or sha256 and sha512 of a file.

    As the conformance protocol says, an existing file of that name wins over a digest.
    """
    path = Path(artifact)
    if path.is_file():
        h256, h512 = hashlib.sha256(), hashlib.sha512()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h256.update(chunk)
                h512.update(chunk)
        return {"sha256": h256.hexdigest(), "sha512": h512.hexdigest()}
    if _DIGEST.match(artifact):
        alg, _, value = artifact.partition(":")
        return {alg: value.lower()}
    if artifact.startswith(("sha256:", "sha512:")):
        raise UsageError(f"{artifact!r}: expected sha256:<64 hex digits> or an existing file")
    raise UsageError(f"{artifact}: no such file (give a file or sha256:<hex>)")


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


def _expected(identity: str | None, issuer: str | None, key: Path | None) -> Expected:
    if key is not None:
        if identity is not None or issuer is not None:
            raise UsageError(
                "give --key or --certificate-identity/--certificate-oidc-issuer, not both"
            )
        try:
            pem = key.read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read key {key}: {e.strerror}") from e
        return Expected(key=load_public_key(pem, str(key)))
    if identity is None or issuer is None:
        raise UsageError(
            "name the signer: --certificate-identity and --certificate-oidc-issuer, or --key"
        )
    return Expected(identity=identity, issuer=issuer)


def verify_bundle(
    bundle: Path,
    artifact: str,
    *,
    identity: str | None = None,
    issuer: str | None = None,
    key: Path | None = None,
    trusted_root: Path | None = None,
    trust_config: Path | None = None,
    staging: bool = False,
    offline: bool = False,
) -> BundleCheck:
    """Verify ``bundle`` for ``artifact``; ``offline`` without a root uses sigstore's own."""
    expected = _expected(identity, issuer, key)
    digests = artifact_digests(artifact)
    try:
        raw = bundle.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read bundle {bundle}: {e.strerror}") from e
    choice = RootChoice(trusted_root, trust_config, staging=staging, offline=offline)
    root = resolve_root(choice)
    verifier = ArtifactVerifier(parse_root(root))
    only_sha256 = set(digests) == {"sha256"}  # the protocol's case: bound by the verifier
    result = verify_any_bundle(
        raw,
        expected,
        verifier,
        artifact_sha256=digests.get("sha256"),
        subject_sha256=digests["sha256"] if only_sha256 else None,
    )
    if result.ok and not only_sha256 and result.statement_type is not None:
        subjects = _subject_digests(raw)
        if not any(value in subjects.get(alg, set()) for alg, value in digests.items()):
            result = replace(result, reasons=(Reason.SUBJECT_MISMATCH,))
    return BundleCheck(result, digests, root)
