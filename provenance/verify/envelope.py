"""First look at a stored line: strict JSON, shape, DSSE fields, before any crypto runs.

Nothing here trusts the payload: it only refuses what no valid attestation can look like,
so that the libraries that verify signatures never see ambiguous input (THREATS.md A).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from provenance.predicates import PAYLOAD_TYPE
from provenance.reasons import Reason
from provenance.store import MAX_LINE_BYTES, NOT_LISTED, OVERSIZED_LINE, OVERSIZED_NOTE
from provenance.verify.jsonstrict import StrictJSONError, b64decode_strict, loads_strict

#: What a store reader puts where it kept no line (store.NoteLines).
_SIZE_STAND_INS = (OVERSIZED_LINE, OVERSIZED_NOTE, NOT_LISTED)
_BUNDLE_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
_BUNDLE_KEYS = {"mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"}
_BUNDLE_ALIASES = {"media_type", "verification_material", "dsse_envelope", "message_signature"}
_ENVELOPE_KEYS = {"payload", "payloadType", "signatures"}
_SIGNATURE_KEYS = {"sig", "keyid"}
#: protobuf-JSON field names: lowerCamelCase (``x509CertificateChain``, ``rfc3161Timestamps``).
_CAMEL = re.compile(r"[a-z][A-Za-z0-9]*")
#: protobuf-JSON ``bytes`` fields of a bundle's verification material; sigstore's parser
#: accepts whitespace, junk and unpadded base64 in them, so they are checked here (A4).
_MATERIAL_BYTES_KEYS = {
    "rawBytes",
    "keyId",
    "signedEntryTimestamp",
    "rootHash",
    "hashes",
    "canonicalizedBody",
    "signedTimestamp",
}


@dataclass(frozen=True)
class ParsedLine:
    """A line that has the shape of a signed DSSE attestation (not yet verified)."""

    kind: Literal["bundle", "envelope"]
    raw: bytes
    document: dict[str, Any]
    payload: bytes
    payload_type: str

    @property
    def payload_digest(self) -> str:
        """sha256 of the signed payload: names an attestation independently of its signature."""
        return hashlib.sha256(self.payload).hexdigest()


def _check_envelope(env: Any, *, in_bundle: bool = False) -> tuple[bytes, str]:
    if not isinstance(env, dict):
        raise StrictJSONError(Reason.MALFORMED, "DSSE envelope is not an object")
    extra = set(env) - _ENVELOPE_KEYS
    if extra and in_bundle and extra <= {"payload_type"}:  # sigstore's model reads the alias
        raise StrictJSONError(Reason.BUNDLE_NONCANONICAL, "envelope key 'payload_type'")
    if extra:
        raise StrictJSONError(
            Reason.UNEXPECTED_FIELD, f"unexpected envelope fields {sorted(extra)}"
        )
    sigs = env.get("signatures")
    if not isinstance(sigs, list) or len(sigs) != 1:
        n = len(sigs) if isinstance(sigs, list) else 0
        raise StrictJSONError(Reason.SIGNATURE_COUNT_INVALID, f"{n} signatures; exactly 1 needed")
    sig = sigs[0]
    if not isinstance(sig, dict) or set(sig) - _SIGNATURE_KEYS:
        raise StrictJSONError(Reason.UNEXPECTED_FIELD, "unexpected signature fields")
    if not b64decode_strict(sig.get("sig")):
        raise StrictJSONError(Reason.SIGNATURE_COUNT_INVALID, "empty signature")
    payload = b64decode_strict(env.get("payload"))
    payload_type = env.get("payloadType")
    if payload_type != PAYLOAD_TYPE:
        raise StrictJSONError(Reason.PAYLOAD_TYPE_INVALID, f"payloadType {payload_type!r}")
    return payload, payload_type


def check_material(value: Any) -> None:
    """Every key of the verification material is canonical, every bytes field strict base64.

    sigstore's models also accept the snake_case field names (``inclusion_promise``,
    ``raw_bytes``, ``x509_certificate_chain``...) and decode bytes with lax base64: a check
    that reads one spelling would see another document than the verifier (THREATS.md G44,
    A4). One spelling, one document.
    """
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, child in item.items():
                if not _CAMEL.fullmatch(key):
                    raise StrictJSONError(
                        Reason.BUNDLE_NONCANONICAL, f"bundle key {key[:64]!r} is not canonical"
                    )
                if key not in _MATERIAL_BYTES_KEYS:
                    stack.append(child)
                    continue
                for encoded in child if isinstance(child, list) else [child]:
                    b64decode_strict(encoded)


def parse_line(line: bytes) -> ParsedLine:
    """Classify and sanity-check one stored line; raises :class:`StrictJSONError` to refuse."""
    if len(line) > MAX_LINE_BYTES or line in _SIZE_STAND_INS:
        raise StrictJSONError(Reason.TOO_LARGE, "attestation line or note too large")
    doc = loads_strict(line)
    if not isinstance(doc, dict):
        raise StrictJSONError(Reason.UNKNOWN_FORMAT, "not a JSON object")
    media = doc.get("mediaType")
    if _BUNDLE_ALIASES & set(doc):
        raise StrictJSONError(Reason.BUNDLE_NONCANONICAL, "bundle with snake_case top-level keys")
    if isinstance(media, str) and media.startswith(_BUNDLE_MEDIA_PREFIX):
        extra = set(doc) - _BUNDLE_KEYS
        if extra:
            raise StrictJSONError(
                Reason.UNEXPECTED_FIELD, f"unexpected bundle fields {sorted(extra)}"
            )
        if "dsseEnvelope" not in doc:
            raise StrictJSONError(Reason.NOT_DSSE, "bundle carries no DSSE envelope")
        if not isinstance(doc.get("verificationMaterial"), dict):
            raise StrictJSONError(Reason.BUNDLE_INVALID, "bundle has no verification material")
        check_material(doc["verificationMaterial"])
        payload, ptype = _check_envelope(doc["dsseEnvelope"], in_bundle=True)
        return ParsedLine("bundle", line, doc, payload, ptype)
    if "payload" in doc or "payloadType" in doc or "signatures" in doc:
        payload, ptype = _check_envelope(doc)
        return ParsedLine("envelope", line, doc, payload, ptype)
    if "_type" in doc or "predicateType" in doc:
        raise StrictJSONError(Reason.UNKNOWN_FORMAT, "bare unsigned statement")
    raise StrictJSONError(Reason.UNKNOWN_FORMAT, "neither a Sigstore bundle nor a DSSE envelope")
