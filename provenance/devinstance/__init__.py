"""A local Sigstore-compatible instance (Fulcio, CT, Rekor v1/v2, TSA, OIDC) for tests and labs.

It serves the real protocols on 127.0.0.1 so the unmodified sigstore-python client signs
against it, and writes the client trust config and trusted root that verify the bundles offline.
Bundles from it never verify against the production trusted root.
"""

from __future__ import annotations

from provenance.devinstance.ca import CertificateAuthority
from provenance.devinstance.instance import DevInstance, issuer_registry
from provenance.devinstance.oidc import DEFAULT_ISSUER

__all__ = ["DEFAULT_ISSUER", "CertificateAuthority", "DevInstance", "issuer_registry"]
