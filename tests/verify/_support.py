"""Helpers for the verifier's threat tests: tamper with stored bytes, or sign crafted statements.

Everything signs for real against a devinstance with the unmodified sigstore-python client.
Two helpers step around a client-side guard, each for a stated reason:

* :func:`sign_unchecked` signs statement bytes that sigstore-python's own ``Statement`` model
  would refuse to sign (wrong ``_type``, empty subject list, ``gitCommit`` digests). An attacker
  is not bound by the client's validation, so the verifier must refuse them on its own.
* :func:`sign_with_leaf` takes the signing certificate straight from the instance's CA
  (``inst.ca.issue_leaf``) instead of over HTTP, so a leaf can carry one defect (no codeSigning
  EKU, a validity window that misses the signed time). Rekor, the TSA and verification are real.
"""

from __future__ import annotations

import base64
import copy
import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import Certificate, CertificateSigningRequest
from sigstore._internal.fulcio.client import (
    FulcioCertificateSigningResponse,
    FulcioClient,
    FulcioSigningCert,
)
from sigstore.dsse import Statement
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from provenance.devinstance import DevInstance
from provenance.predicates import PAYLOAD_TYPE
from provenance.sign import sign_keyless
from provenance.verify.attestation import AttestationResult
from provenance.verify.report import Report
from tests.conftest import AGENT_ID, Golden

Json = dict[str, Any]
Mutation = Callable[[Json], object]

#: Order of the P-256 group: (r, n - s) is the malleated twin of an ECDSA signature (r, s).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


# --- the process-wide socket switch of ``verify(offline=True)`` ---------------------------------


#: The genuine socket functions, captured when pytest collects this module (before any test).
_GENUINE_SOCKET = (
    socket.socket.connect,
    socket.socket.connect_ex,
    socket.create_connection,
    socket.getaddrinfo,
)


def restore_network() -> None:
    """Undo ``forbid_network()``: it patches ``socket`` for the whole process, for good."""
    setattr(socket.socket, "connect", _GENUINE_SOCKET[0])  # noqa: B010 - mypy: method-assign
    setattr(socket.socket, "connect_ex", _GENUINE_SOCKET[1])  # noqa: B010
    socket.create_connection = _GENUINE_SOCKET[2]
    socket.getaddrinfo = _GENUINE_SOCKET[3]


@contextmanager
def network_restored() -> Iterator[None]:
    """Run the block (e.g. an offline verify), then make the devinstance reachable again.

    ``verify(offline=True)`` disables sockets process-wide and never re-enables them, so any
    signing a later test does in the same process would fail without this.
    """
    try:
        yield
    finally:
        restore_network()


def check(golden: Golden, *revs: str, policy: Path | None = None) -> Report:
    """``golden.verify`` (offline, pinned root) without leaving the network disabled."""
    with network_restored():
        return golden.verify(*(revs or (golden.commit,)), policy=policy)


# --- assertions ---------------------------------------------------------------------------------


def assert_refused(report: Report, *codes: str) -> None:
    """The first commit is refused for exactly these reason codes (no more, no fewer)."""
    verdict = report.commits[0]
    assert verdict.reasons == tuple(sorted(set(codes))), verdict
    assert verdict.status == "refused"
    assert report.result == "refused"
    assert not report


def assert_passed(report: Report) -> AttestationResult:
    """The first commit passed; returns the change attestation that carried it."""
    verdict = report.commits[0]
    assert verdict.status == "ok", verdict
    assert verdict.reasons == ()
    assert report.result == "passed"
    assert bool(report)
    return next(a for a in verdict.attestations if a.ok and a.kind == "change")


# --- stored lines -------------------------------------------------------------------------------


def encode(doc: object) -> bytes:
    """Compact JSON, as lines are stored."""
    return json.dumps(doc, separators=(",", ":")).encode()


def decode(line: bytes) -> Json:
    """A stored line as a JSON object."""
    value = json.loads(line)
    assert isinstance(value, dict)
    return value


def mutated(line: bytes, mutation: Mutation) -> bytes:
    """A copy of ``line`` with ``mutation`` applied to its parsed JSON."""
    doc = copy.deepcopy(decode(line))
    mutation(doc)
    return encode(doc)


def payload_of(line: bytes) -> bytes:
    """The signed payload of a bundle line."""
    return base64.b64decode(decode(line)["dsseEnvelope"]["payload"])


def statement_of(line: bytes) -> Json:
    """The signed statement of a bundle line, as a fresh dict."""
    value = json.loads(payload_of(line))
    assert isinstance(value, dict)
    return value


def statement_bytes(statement: Json) -> bytes:
    """Canonical-looking JSON (sorted keys, compact): the bytes to sign."""
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()


def pae(payload: bytes, payload_type: str = PAYLOAD_TYPE) -> bytes:
    """DSSE pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


# --- signing ------------------------------------------------------------------------------------


def sign_line(
    inst: DevInstance, statement: bytes, identity: str = AGENT_ID, issuer: str | None = None
) -> bytes:
    """Sign statement bytes keylessly exactly as ``provenance stamp`` does."""
    token = inst.issue_token(identity, issuer)
    return sign_keyless(statement, token=token, trust_config=inst.trust_config_path).line


class _UncheckedStatement(Statement):
    """Statement bytes the client signs without its own model check (see module docstring)."""

    def __init__(self, contents: bytes) -> None:
        self._contents = contents


def _bundle_line(
    context: SigningContext, inst: DevInstance, statement: Statement, identity: str
) -> bytes:
    token = IdentityToken(inst.issue_token(identity))
    with context.signer(token, cache=True) as signer:
        bundle = signer.sign_dsse(statement)
    return encode(json.loads(bundle.to_json()))


def _context(inst: DevInstance, fulcio: FulcioClient | None = None) -> SigningContext:
    config = ClientTrustConfig.from_json(inst.trust_config_path.read_text())
    real = SigningContext.from_trust_config(config)
    if fulcio is None:
        return real
    return SigningContext(fulcio=fulcio, rekor=real._rekor, trusted_root=real._trusted_root,
                          tsa_clients=real._tsa_clients)  # fmt: skip


def sign_unchecked(inst: DevInstance, statement: bytes, identity: str = AGENT_ID) -> bytes:
    """Sign bytes the client's ``Statement`` model would refuse (real Fulcio, Rekor, TSA)."""
    return _bundle_line(_context(inst), inst, _UncheckedStatement(statement), identity)


@dataclass(frozen=True)
class LeafOptions:
    """One defect for the crafted leaf."""

    code_signing: bool = True
    not_before: datetime | None = None
    not_after: datetime | None = None


class _CraftedSigningCert(FulcioSigningCert):
    def __init__(self, inst: DevInstance, identity: str, options: LeafOptions) -> None:
        super().__init__(inst.url, session=requests.Session())  # never used: no HTTP here
        self._inst, self._identity, self._options = inst, identity, options

    def post(
        self, req: CertificateSigningRequest, identity: IdentityToken
    ) -> FulcioCertificateSigningResponse:
        ca = self._inst.ca
        public_key = req.public_key()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        leaf: Certificate = ca.issue_leaf(
            public_key,
            self._identity,
            self._inst.default_issuer,
            code_signing=self._options.code_signing,
            not_before=self._options.not_before,
            not_after=self._options.not_after,
        )
        return FulcioCertificateSigningResponse(leaf, ca.chain)


class _CraftingFulcio(FulcioClient):
    """The instance's own CA, issuing leaves with a chosen defect (no HTTP hop)."""

    def __init__(self, inst: DevInstance, identity: str, options: LeafOptions) -> None:
        super().__init__(inst.url)
        self._crafted = _CraftedSigningCert(inst, identity, options)

    @property
    def signing_cert(self) -> FulcioSigningCert:
        return self._crafted


def sign_with_leaf(
    inst: DevInstance, statement: bytes, options: LeafOptions, identity: str = AGENT_ID
) -> bytes:
    """Sign with a leaf issued by ``inst.ca`` with ``options`` (see module docstring)."""
    fulcio = _CraftingFulcio(inst, identity, options)
    return _bundle_line(_context(inst, fulcio), inst, Statement(statement), identity)


# --- a shared golden whose note each test rewrites ----------------------------------------------


@dataclass
class Lab:
    """A golden repository plus its untouched attestation line; tests store what they like."""

    golden: Golden
    line: bytes

    @property
    def inst(self) -> DevInstance:
        return self.golden.inst

    @property
    def statement(self) -> Json:
        """The golden's signed statement (a fresh copy)."""
        return statement_of(self.line)

    def reset(self) -> None:
        """Put the golden's own note back."""
        self.golden.replace_notes([self.line], self.golden.commit)

    def verify(self, *lines: bytes, policy: Path | None = None) -> Report:
        """Store exactly ``lines`` as the golden commit's note, then run the gate."""
        if lines:
            self.golden.replace_notes(list(lines), self.golden.commit)
        return check(self.golden, self.golden.commit, policy=policy)

    def restated(self, mutation: Mutation) -> bytes:
        """The golden statement after ``mutation``, as bytes to sign."""
        statement = self.statement
        mutation(statement)
        return statement_bytes(statement)

    def resign(self, mutation: Mutation, identity: str = AGENT_ID) -> bytes:
        """Sign the golden statement after ``mutation`` with the trusted identity, for real."""
        return sign_line(self.inst, self.restated(mutation), identity)

    def resign_unchecked(self, mutation: Mutation) -> bytes:
        """As :meth:`resign`, for statements the client itself would refuse to sign."""
        return sign_unchecked(self.inst, self.restated(mutation))


def agent_policy(inst: DevInstance, extra: str = "") -> str:
    """Policy text trusting AGENT_ID at the instance's issuer, plus ``extra`` top-level keys."""
    signer = f'[[signers]]\nissuer = "{inst.default_issuer}"\nidentity = "{AGENT_ID}"\n'
    return f"version = 1\n{extra}\n{signer}"


def policy_file(directory: Path, text: str) -> Path:
    """Write a policy outside the repository (``--policy FILE``)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "policy.toml"
    path.write_text(text)
    return path
