"""Sign stage: statement bytes -> Sigstore bundle or key-signed DSSE envelope."""

from provenance.sign.keyed import public_key_from_pem, sign_with_key
from provenance.sign.keyless import load_trust_config, sign_keyless, token_issuer
from provenance.sign.statement import (
    SignedLine,
    build_prompt_statement,
    build_statement,
    commit_subject,
)

__all__ = [
    "SignedLine",
    "build_prompt_statement",
    "build_statement",
    "commit_subject",
    "load_trust_config",
    "public_key_from_pem",
    "sign_keyless",
    "sign_with_key",
    "token_issuer",
]
