"""The sign stage: statement bytes -> Sigstore bundle or key-signed DSSE envelope.

``sign(statement, signing)`` is the one way to sign (:mod:`provenance.sign.signing`);
``build_statement`` makes the in-toto Statement v1 bytes for a commit
(:mod:`provenance.sign.statement`); the two adapters are :mod:`~provenance.sign.keyless`
(the only module of this stage that imports sigstore) and :mod:`~provenance.sign.keyed`
(securesystemslib signers: files, KMS, HSM).

The names below load on first use (PEP 562): commands that never sign (``classify``,
``query``) must not pay for importing sigstore. The agent wrapper calls :func:`preload`
before the agent starts, so nothing of the signing stack is imported from then on (G54).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance._lazy import lazy_exports

if TYPE_CHECKING:
    from provenance.sign.keyed import key_file, load_signer, public_key_from_pem, sign_with_key
    from provenance.sign.keyless import load_trust_config, sign_keyless, token_issuer
    from provenance.sign.signing import (
        LAZY_MODULES,
        PinnedSigning,
        SigningOptions,
        pin_signing,
        preload,
        sign,
    )
    from provenance.sign.statement import (
        SignedLine,
        build_prompt_statement,
        build_statement,
        commit_subject,
    )

#: The submodule each exported name loads from (on first use).
_EXPORTS = {
    "keyed": ("key_file", "load_signer", "public_key_from_pem", "sign_with_key"),
    "keyless": ("load_trust_config", "sign_keyless", "token_issuer"),
    "signing": (
        "LAZY_MODULES",
        "preload",
        "PinnedSigning",
        "SigningOptions",
        "pin_signing",
        "sign",
    ),
    "statement": ("SignedLine", "build_prompt_statement", "build_statement", "commit_subject"),
}


__getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "LAZY_MODULES",
    "PinnedSigning",
    "SignedLine",
    "SigningOptions",
    "build_prompt_statement",
    "build_statement",
    "commit_subject",
    "key_file",
    "load_signer",
    "load_trust_config",
    "pin_signing",
    "preload",
    "public_key_from_pem",
    "sign",
    "sign_keyless",
    "sign_with_key",
    "token_issuer",
]
