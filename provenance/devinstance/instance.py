"""``DevInstance``: Fulcio + CT + Rekor v1/v2 + TSA + OIDC issuers on 127.0.0.1, kept in one DIR.

Everything secret or trusted (keys, CA and TSA certificates, issuer keys, both logs) lives under
``DIR`` and is reused on restart, so the trusted root's keys never change for a given ``DIR`` and
the logs keep growing; only the URL (port) may change. One server per ``DIR`` at a time, enforced
with an advisory lock, because two servers appending to one log would fork it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO

from provenance.devinstance.ca import CertificateAuthority
from provenance.devinstance.ct import CTLog
from provenance.devinstance.fulcio import Fulcio
from provenance.devinstance.oidc import DEFAULT_ISSUER, IssuerRegistry
from provenance.devinstance.rekor import RekorV1, RekorV2
from provenance.devinstance.server import Services, make_server
from provenance.devinstance.storage import load_or_create_json, load_or_create_key
from provenance.devinstance.tlog import TransparencyLog
from provenance.devinstance.trustconfig import (
    TrustMaterial,
    client_trust_config,
    signing_config,
    trusted_root,
)
from provenance.devinstance.tsa import TimestampAuthority
from provenance.errors import DevInstanceError
from provenance.safefiles import atomic_write

_logger = logging.getLogger(__name__)
LOG_NAME_V1 = "rekor.devinstance.invalid"
LOG_NAME_V2 = "rekor-v2.devinstance.invalid"
#: How far before the instance's creation its keys and services are declared valid (clock skew).
VALIDITY_SLACK = timedelta(minutes=1)


def issuer_registry(directory: Path) -> IssuerRegistry:
    """The OIDC issuer keys of the instance in ``directory`` (no server needed)."""
    return IssuerRegistry(directory / "oidc", DEFAULT_ISSUER)


def _new_state() -> dict[str, object]:
    created = datetime.now(UTC).replace(microsecond=0)
    return {"created": created.isoformat(), "treeId": secrets.randbits(63)}


class DevInstance:
    """A local Sigstore-compatible instance rooted at ``dir``; use as a context manager."""

    def __init__(self, dir: Path, rekor_version: int = 1, tsa: bool = True) -> None:
        if rekor_version not in (1, 2):
            raise DevInstanceError(f"unsupported Rekor version {rekor_version}", hint="use 1 or 2")
        self.dir = Path(dir)
        self.rekor_version = rekor_version
        self.tsa_enabled = tsa
        state = load_or_create_json(self.dir / "instance.json", _new_state)
        self.valid_from = datetime.fromisoformat(str(state["created"])) - VALIDITY_SLACK
        self.issuers = issuer_registry(self.dir)
        self.issuers.create_key(self.issuers.default_issuer)  # known before any token exists
        self.ct = CTLog(load_or_create_key(self.dir / "ct" / "key.pem"))
        self.ca = CertificateAuthority.load_or_create(self.dir / "fulcio", self.ct, self.valid_from)
        self.tsa = TimestampAuthority(self.dir / "tsa", self.valid_from)
        self.log_v1 = TransparencyLog(
            self.dir / "rekor-v1",
            load_or_create_key(self.dir / "rekor-v1" / "key.pem"),
            origin=f"{LOG_NAME_V1} - {state['treeId']}",
            name=LOG_NAME_V1,
        )
        self.log_v2 = TransparencyLog(
            self.dir / "rekor-v2",
            load_or_create_key(self.dir / "rekor-v2" / "key.pem"),
            origin=LOG_NAME_V2,
            name=LOG_NAME_V2,
        )
        self.trust_config_path = self.dir / "trust_config.json"
        self.trusted_root_path = self.dir / "trusted_root.json"
        self.url_path = self.dir / "url"
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock_file: IO[bytes] | None = None
        #: Set it to make the TSA answer 503: sigstore-python then only warns, which lets tests
        #: check that callers refuse bundles without the timestamp they asked for.
        self.tsa_outage = threading.Event()

    @property
    def default_issuer(self) -> str:
        """The issuer URL tokens carry unless another is asked for; stable across restarts."""
        return self.issuers.default_issuer

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise DevInstanceError("the instance is not running", hint="call start() first")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def issue_token(self, identity: str, issuer: str | None = None, ttl: int = 600) -> str:
        """An ES256 ID token Fulcio here accepts (``ttl`` < 0 gives an expired one for tests)."""
        return self.issuers.issue_token(identity, issuer, ttl)

    def trust_material(self) -> TrustMaterial:
        """The public keys and chains the trusted root is built from."""
        return TrustMaterial(
            valid_from=self.valid_from,
            fulcio_chain=self.ca.chain,
            ct_key=self.ct.key.public_key(),
            rekor_keys=[self.log_v1.key.public_key(), self.log_v2.key.public_key()],
            tsa_chain=self.tsa.chain,
        )

    def start(self, port: int = 0) -> DevInstance:
        """Serve on 127.0.0.1:``port``, write the trust files, then ``DIR/url`` last."""
        if self._server is not None:
            return self
        self._acquire_lock()
        try:
            self._server = self._bind(port)
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            self._thread.start()
            self._write_trust_files()
            atomic_write(self.url_path, self.url.encode() + b"\n")
        except BaseException:
            self.stop()
            raise
        _logger.info("devinstance serving %s from %s", self.url, self.dir)
        return self

    def _bind(self, port: int) -> ThreadingHTTPServer:
        """Reload the logs (we now own the directory) and open the listening socket."""
        self.url_path.unlink(missing_ok=True)
        self.log_v1.reload()
        self.log_v2.reload()
        if self.tsa_enabled:
            TimestampAuthority.require_openssl()
        services = Services(
            fulcio=Fulcio(self.ca, self.issuers),
            rekor_v1=RekorV1(self.log_v1),
            rekor_v2=RekorV2(self.log_v2),
            tsa=self.tsa if self.tsa_enabled else None,
            tsa_outage=self.tsa_outage,
        )
        try:
            return make_server(services, port)
        except OSError as e:
            raise DevInstanceError(
                f"cannot listen on 127.0.0.1:{port}: {e}", hint="pick another --port, or 0"
            ) from e

    def stop(self) -> None:
        """Stop serving, remove ``DIR/url`` and release the directory (safe to call twice)."""
        if self._server is not None:
            self.url_path.unlink(missing_ok=True)
            if self._thread is not None and self._thread.is_alive():
                self._server.shutdown()
                self._thread.join()
            self._server.server_close()
        self._server, self._thread = None, None
        self._release_lock()

    def _write_trust_files(self) -> None:
        root = trusted_root(self.url, self.trust_material())
        signing = signing_config(
            self.url,
            oidc_url=self.default_issuer,
            rekor_version=self.rekor_version,
            tsa=self.tsa_enabled,
            valid_from=self.valid_from,
        )
        atomic_write(self.trusted_root_path, json.dumps(root, indent=2).encode())
        config = client_trust_config(root, signing)
        atomic_write(self.trust_config_path, json.dumps(config, indent=2).encode())

    def _acquire_lock(self) -> None:
        handle = (self.dir / ".lock").open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            handle.close()
            raise DevInstanceError(
                f"another devinstance is already serving {self.dir}",
                hint="stop it, or give this one its own --dir",
            ) from e
        self._lock_file = handle

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> DevInstance:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
