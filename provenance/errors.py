"""One error family per stage; every error tells a person what to do next.

Exceptions mean "could not check" (exit 3) or "the command is wrong" (exit 2); a verdict is a
value. The one exception to that is :class:`Refusal`: something refused before any verdict
could be built (a range that proves nothing, an unusable evidence pack, nothing to approve).
It carries its :class:`~provenance.reasons.Reason`, so every refusal has a reason code.
"""

from __future__ import annotations

from provenance.reasons import ExitCode, Reason


class ProvenanceError(Exception):
    """Root of every error this package raises on purpose."""

    #: Exit code the CLI uses when this error reaches the top.
    exit_code: ExitCode = ExitCode.UNDECIDED

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def diagnostics(self) -> str:
        """Message plus what to do next."""
        text = str(self)
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class UsageError(ProvenanceError):
    """The command line or its inputs are wrong (exit 2)."""

    exit_code = ExitCode.USAGE


class Refusal(ProvenanceError):
    """Refused before any verdict (exit 1), with the reason code reports carry."""

    exit_code = ExitCode.REFUSED

    def __init__(self, reason: Reason, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason

    def diagnostics(self) -> str:
        """The reason code first, so the CLI's error line names it."""
        return f"{self.reason}: {super().diagnostics()}"


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
