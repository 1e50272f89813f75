"""verify-bundle's sigstore adapter: message signatures, managed keys, the roots sigstore ships.

The gate verifies what provenance itself writes (DSSE bundles with Fulcio certificates)
through ``sigstore_adapter``. This second adapter serves only ``verify-bundle`` and
``trust-root export``: message-signature bundles (``Verifier.verify_artifact``), bundles
signed with a managed key (sigstore-python verifies only certificate bundles, so the log
entry and signed times are verified here with sigstore's own parts, and the signature by
``keybundle``), Rekor's legacy ``intoto/0.0.2`` entries, the public-good roots
sigstore-python ships, and TUF refreshes. Kept apart so
the gate's trust surface does not grow with it; the private sigstore names it uses are listed
in docs/decisions/0011-conformance-client.md, each inside a fail-closed ``try``.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import sigstore.models as sigstore_models
from cryptography.x509 import Certificate
from platformdirs import user_cache_dir
from sigstore import __version__ as sigstore_version
from sigstore.hashes import Hashed
from sigstore.models import (
    Bundle,
    ClientTrustConfig,
    InvalidBundle,
    TransparencyLogEntry,
    TrustedRoot,
    VerificationMaterial,
)
from sigstore.verify import Verifier
from sigstore_models.bundle.v1 import Bundle as _Bundle
from sigstore_models.common.v1 import HashAlgorithm
from sigstore_models.trustroot import v1 as trustroot_v1

from provenance.errors import TrustError
from provenance.reasons import Reason
from provenance.verify.certificates import certificate_identities, certificate_issuer
from provenance.verify.keybundle import check_intoto, envelope_parts
from provenance.verify.sigstore_adapter import (
    BundleOutcome,
    BundleVerifier,
    SignerNotAllowed,
    _chain_includes_root,
    _invalid_bundle_reason,
    _reason_for,
    _SignerPolicy,
    timed_outcome,
)

#: Sigstore's TUF repositories, as sigstore-python names its embedded copies of their roots.
TUF_URLS = {
    "production": "https://tuf-repo-cdn.sigstore.dev",
    "staging": "https://tuf-repo-cdn.sigstage.dev",
}
#: ``KeyringPurpose.VERIFY``: its class lives in a private module (decision 0011).
_KEYRING_VERIFY = sigstore_models.KeyringPurpose.VERIFY  # type: ignore[attr-defined]
#: One microsecond: the smallest step of a ``datetime``, so ``t < end + step`` is ``t <= end``.
_STEP = timedelta(microseconds=1)


@dataclass(frozen=True)
class RootDocument:
    """The exact trusted-root JSON used, and where it came from (for people and reports)."""

    data: bytes
    source: str

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` of the bytes used."""
        return f"sha256:{hashlib.sha256(self.data).hexdigest()}"


def embedded_root(instance: str) -> RootDocument:
    """The trusted root shipped inside the installed sigstore-python (no network, no cache).

    sigstore-python bootstraps its TUF client from these files; unlike its TUF cache, they
    change only when the package does.
    """
    name = quote(TUF_URLS[instance], safe="")
    resource = importlib.resources.files("sigstore").joinpath("_store", name, "trusted_root.json")
    try:
        data = resource.read_bytes()
    except OSError as e:
        raise TrustError(
            f"sigstore-python {sigstore_version} ships no {instance} trusted root: {e}",
            hint="pass --trusted-root FILE (provenance trust-root export, where there is network)",
        ) from e
    return RootDocument(data, f"the {instance} root embedded in sigstore-python {sigstore_version}")


def tuf_root(
    instance: str, *, url: str | None = None, bootstrap: Path | None = None
) -> RootDocument:
    """Refresh a Sigstore TUF repository (network) and return the trusted root it verified."""
    url = url or TUF_URLS[instance]
    try:
        ClientTrustConfig.from_tuf(url, offline=False, bootstrap_root=bootstrap)
        cached = Path(user_cache_dir("sigstore-python", "sigstore"), "tuf", quote(url, safe=""))
        data = (cached / "trusted_root.json").read_bytes()
    except Exception as e:  # TUF, network and OS errors: could not decide
        raise TrustError(
            f"cannot update the {instance} trusted root from {url}: {type(e).__name__}: {e}",
            hint="without network use --offline (the root shipped with sigstore-python) "
            "or --trusted-root FILE",
        ) from e
    return RootDocument(data, f"Sigstore {instance} via TUF ({cached / 'trusted_root.json'})")


def _closed_tsa_validity(document: dict[str, Any]) -> dict[str, Any]:
    """A TSA's ``validFor`` is a closed interval (protobuf-specs ``TimeRange``).

    sigstore-python 4.5 compares ``gen_time < end``; ending the range one microsecond later
    makes that ``gen_time <= end`` exactly, since ``datetime`` has microsecond resolution.
    """
    for authority in document.get("timestampAuthorities") or []:
        valid = authority.get("validFor") if isinstance(authority, dict) else None
        end = valid.get("end") if isinstance(valid, dict) else None
        if isinstance(valid, dict) and isinstance(end, str):
            moved = datetime.fromisoformat(end.replace("Z", "+00:00")) + _STEP
            valid["end"] = moved.isoformat().replace("+00:00", "Z")
    return document


def _problem(error: Exception) -> str:
    """One line naming what is wrong, instead of a validation library's full dump."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        found = errors()
        if found:
            where = ".".join(str(part) for part in found[0].get("loc", ()))
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            return f"{where}: {found[0].get('msg')}{more}"
    return f"{type(error).__name__}: {error}"


def parse_root(root: RootDocument) -> TrustedRoot:
    """The ``TrustedRoot`` of exactly these bytes."""
    document: Any = None
    try:
        document = json.loads(root.data)
        if not isinstance(document, dict):
            raise ValueError("not a JSON object")
        inner = trustroot_v1.TrustedRoot.from_json(json.dumps(_closed_tsa_validity(document)))
        return TrustedRoot(inner)
    except Exception as e:  # pydantic, JSON and sigstore errors: an unusable root
        config = isinstance(document, dict) and "trustedRoot" in document
        raise TrustError(
            f"{root.source} is not a usable trusted root: {_problem(e)}",
            hint="that is a client trust config: pass it with --trust-config"
            if config
            else "pass a Sigstore trusted_root.json (mediaType ...trustedroot+json;version=0.1)",
        ) from e


class _KeyedView:
    """What ``Verifier._establish_time`` reads from a bundle, for one without a certificate."""

    def __init__(self, inner: _Bundle, entry: TransparencyLogEntry, signature: bytes) -> None:
        self.verification_material = VerificationMaterial(inner.verification_material)
        self.log_entry = entry
        self.signature = signature


#: Refusals of ``verify_artifact`` that the gate's table does not name.
_ARTIFACT_REASONS: tuple[tuple[str, Reason], ...] = (
    ("message digest mismatch", Reason.SUBJECT_MISMATCH),
    ("Expected entry type hashedrekord", Reason.TLOG_MISMATCH),
    ("Unsupported hashedrekord version", Reason.TLOG_MISMATCH),
)


def _artifact_reason(message: str) -> Reason:
    for fragment, reason in _ARTIFACT_REASONS:
        if fragment in message:
            return reason
    return _reason_for(message)


def _load_certified(raw: bytes, document: dict[str, object]) -> Bundle | BundleOutcome:
    """sigstore's view of a certificate bundle, or the refusal of a malformed one.

    A certificate list carrying a self-signed CA is refused here too (THREATS.md C15).
    """
    try:
        bundle = Bundle.from_json(raw)
        rooted = _chain_includes_root(document)
    except Exception as e:  # malformed bundle or certificate: refuse, never pass
        return BundleOutcome((_invalid_bundle_reason(str(e)),))
    if rooted:
        signer, issuer = _signer(bundle)
        return BundleOutcome((Reason.CERTIFICATE_CHAIN_INVALID,), signer=signer, issuer=issuer)
    return bundle


def _signer(bundle: Bundle) -> tuple[str | None, str | None]:
    """The signing certificate's first identity and its OIDC issuer (for reports)."""
    identities = certificate_identities(bundle.signing_certificate)
    return (identities[0] if identities else None), certificate_issuer(bundle.signing_certificate)


#: Rekor's deprecated DSSE entry type (sigstore-js 1.x, early npm provenance).
_INTOTO = ("intoto", "0.0.2")


def _entry_kind(document: dict[str, object]) -> tuple[str, str] | None:
    """``(kind, version)`` of a bundle's single log entry, read from its strict JSON."""
    material = document.get("verificationMaterial")
    entries = material.get("tlogEntries") if isinstance(material, dict) else None
    entry = entries[0] if isinstance(entries, list) and len(entries) == 1 else None
    kind = entry.get("kindVersion") if isinstance(entry, dict) else None
    if not isinstance(kind, dict):
        return None
    return str(kind.get("kind")), str(kind.get("version"))


@dataclass(frozen=True)
class _SetTime:
    """The integrated time a SET covers, shaped like sigstore's verified-time results."""

    time: datetime
    source: str = "transparency log (SET)"


class _IntotoVerifier(Verifier):
    """sigstore's Verifier, also taking the SET-covered time of an ``intoto/0.0.2`` entry.

    sigstore-python 4.5 refuses that entry type when it establishes the signing time, before
    anything else; everything else it checks (chain at each time, SCT, profile, signer,
    inclusion proof, checkpoint, SET, times within the certificate's validity) applies as is.
    """

    def _establish_time(self, bundle: Bundle) -> list[Any]:
        inner = bundle.log_entry._inner
        if (inner.kind_version.kind, inner.kind_version.version) != _INTOTO:
            return super()._establish_time(bundle)
        view = SimpleNamespace(
            verification_material=bundle.verification_material,
            signature=bundle.signature,
            log_entry=SimpleNamespace(_inner=inner.model_copy(update={"inclusion_promise": None})),
        )
        times: list[Any] = super()._establish_time(view)  # type: ignore[arg-type]  # TSA only
        if inner.integrated_time and inner.inclusion_promise:  # its SET is verified in step 5
            times.append(_SetTime(datetime.fromtimestamp(inner.integrated_time, tz=UTC)))
        return times


class ArtifactVerifier(BundleVerifier):
    """Adds message signatures, managed-key bundles and ``intoto/0.0.2`` entries."""

    def __init__(self, trusted_root: TrustedRoot) -> None:
        super().__init__(trusted_root)
        self._root = trusted_root
        self._intoto = _IntotoVerifier(trusted_root=trusted_root)

    def verify(
        self, raw: bytes, document: dict[str, object], allowed: Callable[[Certificate], bool]
    ) -> BundleOutcome:
        """A DSSE bundle with a certificate: the gate's path, or the legacy entry's."""
        if _entry_kind(document) != _INTOTO:
            return super().verify(raw, document, allowed)
        bundle = _load_certified(raw, document)
        if isinstance(bundle, BundleOutcome):
            return bundle
        cert = bundle.signing_certificate
        signer, issuer = _signer(bundle)
        try:
            self._intoto._verify_common_signing_cert(bundle, _SignerPolicy(allowed))  # steps 0-6
            times = [t.time for t in self._intoto._establish_time(bundle)]
            refused = check_intoto(bundle.log_entry._inner.canonicalized_body, cert, document)
        except SignerNotAllowed:
            return BundleOutcome((Reason.SIGNER_NOT_ALLOWED,), signer=signer, issuer=issuer)
        except Exception as e:  # sigstore's refusals and malformed material: never a pass
            reason = _reason_for(str(e)) if str(e) else Reason.SIGSTORE_VERIFICATION_FAILED
            return BundleOutcome((reason,), signer=signer, issuer=issuer)
        if refused is not None:  # steps 7 and 8, with the certificate's key
            return BundleOutcome((refused,), signer=signer, issuer=issuer)
        return timed_outcome(times, envelope_parts(document)[0], signer, issuer)

    def verify_message(
        self,
        raw: bytes,
        document: dict[str, object],
        sha256: bytes,
        allowed: Callable[[Certificate], bool],
    ) -> BundleOutcome:
        """A message-signature bundle over the artifact whose sha256 is ``sha256``."""
        bundle = _load_certified(raw, document)
        if isinstance(bundle, BundleOutcome):
            return bundle
        signer, issuer = _signer(bundle)
        try:
            hashed = Hashed(algorithm=HashAlgorithm.SHA2_256, digest=sha256)
            self._verifier.verify_artifact(hashed, bundle, _SignerPolicy(allowed))
            times = self._verifier.verified_times(bundle)
        except SignerNotAllowed:
            return BundleOutcome((Reason.SIGNER_NOT_ALLOWED,), signer=signer, issuer=issuer)
        except Exception as e:  # sigstore's refusals and malformed material: never a pass
            reason = _artifact_reason(str(e)) if str(e) else Reason.SIGSTORE_VERIFICATION_FAILED
            return BundleOutcome((reason,), signer=signer, issuer=issuer)
        return timed_outcome(times, None, signer, issuer)

    def verify_keyed(
        self, raw: bytes, check: Callable[[KeyedParts], Reason | None]
    ) -> BundleOutcome:
        """A bundle whose verification material is a public-key hint (a managed key).

        Sigstore verifies the log entry (inclusion proof, checkpoint, SET) and the signed
        times; ``check`` verifies the signature with the caller's key and the entry's body
        against the bundle (spec steps 7 and 8), returning a reason to refuse.
        """
        try:
            inner = _Bundle.from_json(raw)
            material = inner.verification_material
            if material.public_key is None:
                return BundleOutcome((Reason.VERIFICATION_MATERIAL_MISMATCH,))
            if len(material.tlog_entries) != 1:
                return BundleOutcome((Reason.BUNDLE_INVALID,))
            entry = TransparencyLogEntry(material.tlog_entries[0])
            parts = _keyed_parts(inner, entry)
            times = [t.time for t in self._verifier._establish_time(parts.view)]  # type: ignore[arg-type]
            if len(times) < 1:
                return BundleOutcome((Reason.SIGNED_TIME_MISSING,))
            entry._verify(self._root.rekor_keyring(_KEYRING_VERIFY))
        except InvalidBundle as e:
            return BundleOutcome((_invalid_bundle_reason(str(e)),))
        except Exception as e:  # sigstore's refusals and malformed material: never a pass
            reason = _reason_for(str(e)) if str(e) else Reason.SIGSTORE_VERIFICATION_FAILED
            return BundleOutcome((reason,))
        refused = check(parts)
        if refused is not None:
            return BundleOutcome((refused,))
        return timed_outcome(times, parts.payload, None, None)


@dataclass(frozen=True)
class KeyedParts:
    """The pieces of a managed-key bundle the caller checks with its own key."""

    view: _KeyedView
    entry_kind: tuple[str, str]
    body: bytes
    signature: bytes
    payload: bytes | None = None
    payload_type: str | None = None
    message_digest: bytes | None = None


def _keyed_parts(inner: _Bundle, entry: TransparencyLogEntry) -> KeyedParts:
    """Split a parsed key bundle; the same invariants ``Bundle`` checks, minus the certificate."""
    kind_version = entry._inner.kind_version
    if kind_version.version not in ("0.0.1", "0.0.2"):
        raise InvalidBundle(f"unsupported log entry version {kind_version.version}")
    has_tsa = bool(VerificationMaterial(inner.verification_material).timestamp_verification_data)
    if inner.media_type.endswith("version=0.1") and not entry._inner.inclusion_promise:
        raise InvalidBundle("bundle must contain an inclusion promise")
    if not entry._inner.inclusion_promise and not has_tsa:
        raise InvalidBundle("bundle must contain an inclusion promise or signed timestamp(s)")
    entry_kind = (kind_version.kind, kind_version.version)
    body = entry._inner.canonicalized_body
    if inner.dsse_envelope is not None:
        envelope = inner.dsse_envelope
        if len(envelope.signatures) != 1:
            raise InvalidBundle("exactly one DSSE signature is supported")
        sig = envelope.signatures[0].sig
        view = _KeyedView(inner, entry, sig)
        return KeyedParts(view, entry_kind, body, sig, envelope.payload, envelope.payload_type)
    message = inner.message_signature
    if message is None:
        raise InvalidBundle("bundle has neither a DSSE envelope nor a message signature")
    digest = message.message_digest.digest if message.message_digest else None
    view = _KeyedView(inner, entry, message.signature)
    return KeyedParts(view, entry_kind, body, message.signature, message_digest=digest)
