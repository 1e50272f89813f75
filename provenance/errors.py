"""One error family per stage; every error tells a person what to do next."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Root of every error this package raises on purpose."""

    #: Exit code the CLI uses when this error reaches the top (3: could not decide).
    exit_code: int = 3

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def diagnostics(self) -> str:
        """Message plus what to do next."""
        text = str(self)
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class UsageError(ProvenanceError):
    """The command line or its inputs are wrong (exit 2)."""

    exit_code = 2


class ConfigError(ProvenanceError):
    """Policy or settings are missing or invalid (exit 3)."""


class GitError(ProvenanceError):
    """A git operation failed or the repository is unsafe to read."""


class RecordError(ProvenanceError):
    """The change record could not be built."""


class SigningError(ProvenanceError):
    """Signing failed: the commit stays pending."""


class StoreError(ProvenanceError):
    """The attestation store could not be read or written."""


class TrustError(ProvenanceError):
    """A trust root or trust config could not be loaded."""


class DevInstanceError(ProvenanceError):
    """The local Sigstore-compatible instance failed."""
