"""Sign stage: statement bytes -> Sigstore bundle or key-signed DSSE envelope."""

import importlib

from provenance.sign.keyed import key_file, load_signer, public_key_from_pem, sign_with_key
from provenance.sign.keyless import load_trust_config, sign_keyless, token_issuer
from provenance.sign.statement import (
    SignedLine,
    build_prompt_statement,
    build_statement,
    commit_subject,
)

#: What signing still imports on first use once this package is imported (measured by
#: tests/app/test_wrapper_isolation.py, which fails when signing imports anything new).
LAZY_MODULES = (
    "cryptography.hazmat.backends.openssl",
    "cryptography.hazmat.bindings.openssl.binding",
    "encodings.idna",
    "encodings.utf_16_be",
    "netrc",
)


def preload() -> None:
    """Import everything signing needs now, before an agent can plant modules (G54)."""
    for name in LAZY_MODULES:
        importlib.import_module(name)


__all__ = [
    "LAZY_MODULES",
    "SignedLine",
    "build_prompt_statement",
    "build_statement",
    "commit_subject",
    "key_file",
    "load_signer",
    "load_trust_config",
    "preload",
    "public_key_from_pem",
    "sign_keyless",
    "sign_with_key",
    "token_issuer",
]
