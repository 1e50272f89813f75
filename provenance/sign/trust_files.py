"""Trust files given to the wrong option, or invalid: one line that names the real cause.

A trust config passed as ``--trusted-root`` (or the reverse) is the common mistake; sigstore
answers it with a pydantic dump of every missing field. Shared by signing (trust configs)
and verification (trusted roots).
"""

from __future__ import annotations

import json
from pathlib import Path

from provenance.errors import TrustError

#: What each file is, by its ``mediaType`` (the option that takes it).
_MEDIA_KINDS = {
    "application/vnd.dev.sigstore.trustedroot": ("a trusted root", "--trusted-root"),
    "application/vnd.dev.sigstore.clienttrustconfig": ("a client trust config", "--trust-config"),
    "application/vnd.dev.sigstore.signingconfig": ("a signing config", None),
    "application/vnd.dev.sigstore.bundle": ("a Sigstore bundle", "--bundle"),
}


def trust_load_error(path: Path | None, trust_config: Path | None, e: Exception) -> TrustError:
    """Why a trusted root did not load, in one line: a file given to the wrong option is
    named as what it is; a validation failure says its first problem, not a model dump."""
    given, option = (
        (path, "--trusted-root") if path is not None else (trust_config, "--trust-config")
    )
    if given is None:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return TrustError(
            f"cannot load the Sigstore production trusted root: {first}",
            hint="check the network (TUF), or pass --trusted-root FILE / --trust-config FILE",
        )
    kind = _media_kind(given)
    if kind is not None and kind[1] != option:
        better = f"pass it as {kind[1]} {given}" if kind[1] else f"{option} needs another file"
        return TrustError(f"{given} is {kind[0]}, not what {option} takes", hint=better)
    errors = getattr(e, "errors", None)
    if callable(errors):  # pydantic: the count and the first problem
        found = errors()
        where = ".".join(str(p) for p in found[0].get("loc", ())) if found else ""
        detail = f"{len(found)} problem(s), first at {where or 'top level'}: " + (
            found[0].get("msg", "") if found else ""
        )
    else:
        detail = str(e).splitlines()[0] if str(e) else type(e).__name__
    expected = "a trusted root" if option == "--trusted-root" else "a client trust config"
    return TrustError(
        f"{given} is not a valid {expected.split(' ', 1)[1]} ({detail})",
        hint=f"{option} takes {expected} JSON (`provenance trust-root export` writes one)",
    )


def _media_kind(path: Path) -> tuple[str, str | None] | None:
    """What the file says it is, from its ``mediaType`` (None: unreadable or unknown)."""
    try:
        media = json.loads(path.read_text()).get("mediaType", "")
    except (OSError, ValueError, AttributeError):
        return None
    for prefix, kind in _MEDIA_KINDS.items():
        if isinstance(media, str) and media.startswith(prefix):
            return kind
    return None
