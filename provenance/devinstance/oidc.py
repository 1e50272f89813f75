"""OIDC issuers: one persistent ES256 key per issuer URL, tokens minted and checked with PyJWT.

sigstore-python forwards tokens without checking their signatures, so the instance's Fulcio
must: a token whose ``iss`` has no key here, or whose signature does not match that key, is
refused. Issuer keys are created on first use by :meth:`IssuerRegistry.issue_token` only, never
by verification, so an unknown issuer stays unknown.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from provenance.devinstance.ca import identity_san
from provenance.devinstance.storage import PublicKey, key_id, load_or_create_key
from provenance.errors import DevInstanceError

DEFAULT_ISSUER = "https://oidc.devinstance.invalid"
AUDIENCE = "sigstore"
_REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "exp"]


class TokenRejected(Exception):
    """The bearer token cannot be trusted; Fulcio answers 401 with this message."""


@dataclass(frozen=True)
class VerifiedToken:
    """What Fulcio needs from a token whose signature, audience and lifetime checked out."""

    issuer: str
    identity: str


class IssuerRegistry:
    """Issuer keys under ``directory``, one PEM file per issuer URL (named by its SHA-256)."""

    def __init__(self, directory: Path, default_issuer: str = DEFAULT_ISSUER) -> None:
        self.directory = directory
        self.default_issuer = default_issuer

    def _key_path(self, issuer: str) -> Path:
        return self.directory / f"{hashlib.sha256(issuer.encode()).hexdigest()[:32]}.key.pem"

    def create_key(self, issuer: str) -> PublicKey:
        """Make ``issuer`` known (its key is created once, then reused)."""
        return load_or_create_key(self._key_path(issuer)).public_key()

    def public_key(self, issuer: str) -> PublicKey | None:
        """The issuer's verification key, or ``None`` when this instance never issued for it."""
        path = self._key_path(issuer)
        if not path.exists():
            return None
        return load_or_create_key(path).public_key()

    def issue_token(self, identity: str, issuer: str | None = None, ttl: int = 600) -> str:
        """Mint a signed ID token for ``identity``; a negative ``ttl`` makes an expired one."""
        identity_san(identity)  # refuse identities Fulcio could not put in a certificate
        issuer = issuer or self.default_issuer
        if not issuer.startswith(("https://", "http://")):
            raise DevInstanceError(
                f"issuer {issuer!r} is not a URL", hint="use e.g. https://issuer.example.com"
            )
        now = int(time.time())
        issued = now if ttl > 0 else now + ttl - 60
        claims: dict[str, Any] = {
            "iss": issuer,
            "sub": identity,
            "aud": AUDIENCE,
            "iat": issued,
            "nbf": issued,
            "exp": now + ttl,
        }
        if "@" in identity and "://" not in identity:
            claims |= {"email": identity, "email_verified": True}
        return self.sign_claims(claims)

    def sign_claims(self, claims: dict[str, Any]) -> str:
        """Sign arbitrary claims with the key of ``claims["iss"]``: for negative tests."""
        key = load_or_create_key(self._key_path(str(claims["iss"])))
        kid = key_id(key.public_key()).hex()
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})

    def verify(self, token: str) -> VerifiedToken:
        """Check signature (against the key of the issuer the token names), audience and time."""
        try:
            issuer = jwt.decode(token, options={"verify_signature": False})["iss"]
        except (jwt.PyJWTError, KeyError) as e:
            raise TokenRejected(f"malformed identity token: {e}") from e
        if not isinstance(issuer, str) or (key := self.public_key(issuer)) is None:
            raise TokenRejected(f"unknown OIDC issuer {issuer!r}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as e:
            raise TokenRejected(f"identity token rejected: {e}") from e
        return VerifiedToken(issuer=issuer, identity=_identity_of(claims))


def _identity_of(claims: dict[str, Any]) -> str:
    """The verified email when there is one (as Fulcio does for email issuers), else ``sub``."""
    if "email" in claims:
        if claims.get("email_verified") is not True:
            raise TokenRejected("the token's email is not verified")
        return str(claims["email"])
    return str(claims["sub"])
