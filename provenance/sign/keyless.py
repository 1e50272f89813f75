"""Sigstore keyless signing: the only module of the sign stage that imports sigstore."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jwt
from sigstore.dsse import Statement
from sigstore.errors import Error as SigstoreError
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityError, IdentityToken, detect_credential
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import Identity

from provenance.errors import SigningError, TrustError
from provenance.sign.statement import SignedLine
from provenance.sign.trust_files import trust_load_error

_logger = logging.getLogger(__name__)


def load_trust_config(path: Path | None) -> ClientTrustConfig:
    """A client trust config from a file, or Sigstore production (fetched through TUF)."""
    try:
        if path is None:
            return ClientTrustConfig.production()
        return ClientTrustConfig.from_json(path.read_text())
    except OSError as e:
        raise TrustError(f"cannot read trust config {path}: {e.strerror}") from e
    except (SigstoreError, ValueError) as e:
        raise trust_load_error(None, path, e) from e


def resolve_token(token: str | None) -> IdentityToken:
    """The given OIDC token, or one detected from the CI environment by sigstore itself."""
    raw = token
    if raw is None:
        try:
            raw = detect_credential()
        except IdentityError as e:
            raise SigningError(f"ambient credential detection failed: {e}") from e
    if not raw:
        raise SigningError(
            "no identity token for keyless signing",
            hint="pass --identity-token TOKEN|@FILE, set PROVENANCE_IDENTITY_TOKEN, "
            "run in CI with OIDC enabled, or use --key",
        )
    return _identity_token(raw)


def token_issuer(token: str) -> str:
    """The issuer an OIDC token names (read, not verified: Fulcio checks it when signing)."""
    return str(_identity_token(token).issuer)


def _identity_token(raw: str) -> IdentityToken:
    """sigstore's token, or a SigningError naming the real cause.

    sigstore says "malformed or missing claims" for every claim it rejects; an expired or
    not-yet-valid token is the common case in CI (a token minted long before signing), so
    its claims are read again, unverified, to say so. The token is never printed.
    """
    try:
        return IdentityToken(raw.strip())
    except IdentityError as e:
        raise SigningError(_token_problem(raw.strip(), e), hint=_TOKEN_HINT) from e


_TOKEN_HINT = "get a fresh token (CI: request it right before signing) and retry"  # noqa: S105


def _token_problem(raw: str, error: IdentityError) -> str:
    try:
        jwt.decode(
            raw,
            options={"verify_signature": False, "verify_aud": False, "verify_exp": True,
                     "verify_nbf": True, "verify_iat": True},
        )  # fmt: skip
    except jwt.ExpiredSignatureError:
        return "the identity token has expired (its exp claim is in the past)"
    except jwt.ImmatureSignatureError:
        return "the identity token is not valid yet (its iat or nbf claim is in the future)"
    except jwt.PyJWTError:
        pass
    return f"the identity token is not usable: {error}"


def sign_keyless(
    statement: bytes,
    *,
    token: str | None,
    trust_config: Path | None = None,
    pinned: ClientTrustConfig | None = None,
) -> SignedLine:
    """Sign a statement with Sigstore and check the bundle verifies before returning it.

    ``pinned``: a trust config loaded earlier (the agent wrapper loads it before the agent
    runs, so the Fulcio, Rekor and TSA the token goes to are fixed by then: THREATS.md G55).
    """
    cfg = pinned if pinned is not None else load_trust_config(trust_config)
    identity = resolve_token(token)
    try:
        ctx = SigningContext.from_trust_config(cfg)
        with ctx.signer(identity, cache=True) as signer:
            bundle = signer.sign_dsse(Statement(statement))
    except (SigstoreError, OSError, ValueError) as e:
        raise SigningError(
            f"Sigstore signing failed: {e}",
            hint="check the instance is reachable and the token valid; "
            "the commit stays unsigned until a retry succeeds",
        ) from e
    except Exception as e:  # network and client errors from requests and sigstore internals
        raise SigningError(f"Sigstore signing failed: {type(e).__name__}: {e}") from e
    expects_tsa = bool(cfg.signing_config.get_tsas())
    if expects_tsa and bundle.verification_material.timestamp_verification_data is None:
        raise SigningError(
            "the timestamp authority did not timestamp the signature",
            hint="the TSA in the trust config failed; retry when it is up",
        )
    try:
        Verifier(trusted_root=cfg.trusted_root).verify_dsse(
            bundle, Identity(identity=identity.identity, issuer=identity.issuer)
        )
    except SigstoreError as e:
        raise SigningError(f"the signed bundle does not verify: {e}") from e
    line = json.dumps(json.loads(bundle.to_json()), separators=(",", ":")).encode()
    return SignedLine(line=line, signer=identity.identity, issuer=identity.issuer)
