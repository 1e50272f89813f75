"""What a Fulcio certificate says: its identities, its issuer, whether it names a workload.

These read the certificate with cryptography alone. They are apart from the sigstore adapter
(:mod:`~provenance.verify.sigstore_adapter`) so that screening stored lines, the trust
context and a ``verify`` that meets no bundle do not import sigstore's client (about 0.35 s
of CPU in every CLI process, decision 0024); a bundle's verification still loads it.
"""

from __future__ import annotations

from cryptography.x509 import (
    Certificate,
    ExtensionNotFound,
    ObjectIdentifier,
    RFC822Name,
    SubjectAlternativeName,
    UniformResourceIdentifier,
)

_OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")


def certificate_identities(cert: Certificate) -> list[str]:
    """Email and URI SANs of a leaf certificate."""
    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    return [
        *san.get_values_for_type(RFC822Name),
        *san.get_values_for_type(UniformResourceIdentifier),
    ]


#: Fulcio's extensions that describe a workload rather than a person: the legacy GitHub
#: workflow fields (1.2-1.6) and the build/source-repository fields (1.9-1.22), present on
#: every CI certificate (GitHub, GitLab, Buildkite ...). 1.1 and 1.8 (the issuer) and 1.7
#: (an OtherName SAN, a username) are on people's certificates too.
_FULCIO_ARC = "1.3.6.1.4.1.57264.1."
_PERSON_EXTENSIONS = frozenset({1, 7, 8})


def workload_identity(cert: Certificate) -> str | None:
    """Why a certificate names a workload (CI job, service) rather than a person, if it does.

    A URI SAN names a workflow, job or service; Fulcio's build and source-repository
    extensions describe a CI run. Any other Fulcio extension under ``1.3.6.1.4.1.57264.1`` is
    taken as a workload field too (fail closed: new ones so far all were).
    """
    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        san = None
    if san is not None and san.get_values_for_type(UniformResourceIdentifier):
        return "its subject is a URI (a workflow or service), not a person"
    for extension in cert.extensions:
        dotted = extension.oid.dotted_string
        if dotted.startswith(_FULCIO_ARC):
            arc = dotted[len(_FULCIO_ARC) :]
            if not arc.isdigit() or int(arc) not in _PERSON_EXTENSIONS:
                return f"it carries Fulcio's workload extension {dotted} (a CI run)"
    return None


def certificate_issuer(cert: Certificate) -> str | None:
    """The OIDC issuer from the legacy raw extension, as sigstore's ``OIDCIssuer`` reads it."""
    try:
        value = cert.extensions.get_extension_for_oid(_OIDC_ISSUER_V1).value
    except ExtensionNotFound:
        return None
    raw = getattr(value, "value", b"")
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else None


__all__ = ["certificate_identities", "certificate_issuer", "workload_identity"]
