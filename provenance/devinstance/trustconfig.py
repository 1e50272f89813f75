"""The trusted root and client trust config the instance publishes for sigstore-python.

Shapes follow protobuf-specs ``TrustedRoot`` (``trustedroot+json;version=0.1``) and
``SigningConfig`` v0.2 wrapped in a ``ClientTrustConfig`` v0.1. The trusted root always lists both
Rekor logs (v1 and v2) and the TSA, whatever the signing config selects, so it only changes when
the URL does and a bundle made in any mode verifies against any later copy of it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from provenance.devinstance.storage import PublicKey, key_id, spki_der

TRUSTED_ROOT_MEDIA_TYPE = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
SIGNING_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
CLIENT_TRUST_CONFIG_MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
OPERATOR = "provenance-devinstance"
TSA_PATH = "/api/v1/timestamp"


@dataclass(frozen=True)
class TrustMaterial:
    """Everything public the trust files are made of (URLs excepted)."""

    valid_from: datetime
    fulcio_chain: list[x509.Certificate]
    ct_key: PublicKey
    rekor_keys: list[PublicKey]
    tsa_chain: list[x509.Certificate]


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _log(url: str, key: PublicKey, valid_from: datetime) -> dict[str, Any]:
    return {
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": _b64(spki_der(key)),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": _time(valid_from)},
        },
        "logId": {"keyId": _b64(key_id(key))},
    }


def _authority(
    name: str, url: str, chain: list[x509.Certificate], valid_from: datetime
) -> dict[str, Any]:
    ders = [c.public_bytes(serialization.Encoding.DER) for c in chain]
    return {
        "subject": {"organization": OPERATOR, "commonName": name},
        "uri": url,
        "certChain": {"certificates": [{"rawBytes": _b64(der)} for der in ders]},
        "validFor": {"start": _time(valid_from)},
    }


def trusted_root(url: str, material: TrustMaterial) -> dict[str, Any]:
    """The ``TrustedRoot`` JSON: Rekor logs, Fulcio chain, CT log, TSA chain."""
    start = material.valid_from
    return {
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [_log(url, key, start) for key in material.rekor_keys],
        "certificateAuthorities": [_authority("fulcio", url, material.fulcio_chain, start)],
        "ctlogs": [_log(url, material.ct_key, start)],
        "timestampAuthorities": [_authority("tsa", url + TSA_PATH, material.tsa_chain, start)],
    }


def signing_config(
    url: str, *, oidc_url: str, rekor_version: int, tsa: bool, valid_from: datetime
) -> dict[str, Any]:
    """The v0.2 ``SigningConfig``: one Fulcio, one Rekor of the chosen major version, the TSA."""

    def service(service_url: str, version: int) -> dict[str, Any]:
        return {
            "url": service_url,
            "majorApiVersion": version,
            "validFor": {"start": _time(valid_from)},
            "operator": OPERATOR,
        }

    return {
        "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
        "caUrls": [service(url, 1)],
        "oidcUrls": [service(oidc_url, 1)],
        "rekorTlogUrls": [service(url, rekor_version)],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaUrls": [service(url + TSA_PATH, 1)] if tsa else [],
        "tsaConfig": {"selector": "ANY"},
    }


def client_trust_config(root: dict[str, Any], signing: dict[str, Any]) -> dict[str, Any]:
    """Wrap both in the ``ClientTrustConfig`` that ``ClientTrustConfig.from_json`` reads."""
    return {
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": root,
        "signingConfig": signing,
    }
