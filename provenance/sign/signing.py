"""How to sign, pinned before an agent runs, and ``sign(statement, signing)``: the one entry.

:class:`SigningOptions` say how (a key URI, or keyless with a token and trust config);
:func:`pin_signing` reads and checks every file that decides where the token goes, once,
before an agent can swap them (THREATS.md G55); :func:`sign` signs with a key when one is
given, else with Sigstore, and checks the result verifies. Nothing here stores anything:
the use cases store what ``sign`` returns (``app.stamp.sign_and_store``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.errors import SigningError, TrustError, UsageError
from provenance.safefiles import unsafe_reason

if TYPE_CHECKING:
    from provenance.sign.statement import SignedLine

#: What signing imports on first use, the adapters included (measured by
#: tests/app/test_wrapper_isolation.py, which fails when signing imports anything new).
LAZY_MODULES = (
    "provenance.sign.keyed",
    "provenance.sign.keyless",
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


@dataclass(frozen=True)
class SigningOptions:
    """How to sign: a key URI, or keyless with a token and trust config."""

    key: str | None = None
    public_key: Path | None = None
    identity_token: str | None = field(default=None, repr=False)
    trust_config: Path | None = None
    #: Asked for an encrypted key's passphrase when PROVENANCE_KEY_PASSPHRASE is unset.
    passphrase: Callable[[Path], bytes | None] | None = field(
        default=None, repr=False, compare=False
    )


@dataclass(frozen=True)
class PinnedSigning:
    """Signing options whose files were read and checked once, before an agent ran (G55).

    ``trust`` is the loaded Sigstore client trust config (Fulcio, Rekor, TSA URLs and the
    trusted root), ``signer`` the loaded key signer; whatever happens to the files afterwards,
    the token goes where they said when the session started.
    """

    options: SigningOptions
    trust: object | None = None
    signer: object | None = None
    failure: str | None = None


def pin_signing(options: SigningOptions, work_tree: Path | None) -> PinnedSigning:
    """Check and load every input that decides where the token goes, and the signing stack.

    Files inside the work tree, or that another user could write (the file, a directory above
    it, or its owner), are refused: an agent could otherwise swap them mid-session.
    """
    from provenance.sign.keyed import key_file, load_signer
    from provenance.sign.keyless import load_trust_config

    files = {
        "--trust-config": options.trust_config,
        "--key": key_file(options.key) if options.key else None,
        "--public-key": options.public_key,
    }
    for flag, path in files.items():
        problem = unsafe_reason(path, work_tree) if path is not None else None
        if problem:
            raise UsageError(
                f"{flag} {path}: {problem}",
                hint="keep signing inputs outside the repository, owned by you and writable "
                "by you only (chmod go-w), so the agent cannot replace them",
            )
    preload()
    if options.key:
        signer = load_signer(options.key, options.public_key, options.passphrase)
        return PinnedSigning(options, signer=signer)
    try:
        return PinnedSigning(options, trust=load_trust_config(options.trust_config))
    except TrustError as e:
        if options.trust_config is not None:
            raise  # the user's own file is unusable: say so before anything runs
        # Sigstore production unreachable now: the session runs, and its commits end pending
        # (never signed with a trust config fetched after the agent ran).
        return PinnedSigning(options, failure=f"{e} (before the session started)")


def sign(statement: bytes, signing: SigningOptions | PinnedSigning) -> SignedLine:
    """Key-signed when a key is given, otherwise Sigstore keyless; the result is checked.

    The signing stack (sigstore, securesystemslib) is imported on first use; the agent
    wrapper pins it, and the files it reads, before the agent starts (:func:`pin_signing`).
    """
    from provenance.sign.keyed import sign_with_key
    from provenance.sign.keyless import sign_keyless

    pinned = signing if isinstance(signing, PinnedSigning) else PinnedSigning(signing)
    if pinned.failure is not None:
        raise SigningError(pinned.failure, hint="retry with `provenance stamp --pending`")
    opts = pinned.options
    if opts.key:
        return sign_with_key(
            statement,
            opts.key,
            opts.public_key,
            pinned.signer,  # type: ignore[arg-type]
            opts.passphrase,
        )
    return sign_keyless(
        statement,
        token=opts.identity_token,
        trust_config=opts.trust_config,
        pinned=pinned.trust,  # type: ignore[arg-type]
    )


__all__ = ["LAZY_MODULES", "PinnedSigning", "SigningOptions", "pin_signing", "preload", "sign"]
