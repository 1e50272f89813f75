"""The loopback HTTP server: routes the real Fulcio, Rekor and TSA paths to their services.

Stdlib ``ThreadingHTTPServer`` is enough for a loopback test service; every handler is
thread-safe (the logs lock around appends, the TSA around openssl). Errors are JSON
``{"code", "message"}``, which satisfies both Fulcio's and Rekor's client error parsing.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from provenance.devinstance.entries import ProposalRejected
from provenance.devinstance.fulcio import Fulcio, FulcioRejected
from provenance.devinstance.rekor import RekorV1, RekorV2
from provenance.devinstance.tsa import TimestampAuthority, TimestampRejected

_logger = logging.getLogger(__name__)
MAX_BODY = 8 * 1024 * 1024


class _Reply(Exception):
    """A response: handlers return it on success and raise it to refuse a request."""

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def _json(status: int, value: Any) -> _Reply:
    return _Reply(status, json.dumps(value).encode())


def _error(status: int, message: str) -> _Reply:
    return _json(status, {"code": status, "message": message})


@dataclass(frozen=True)
class Services:
    """What the server dispatches to; ``tsa`` is ``None`` when timestamping is switched off.

    While ``tsa_outage`` is set the TSA answers 503, as a real one does when it is down.
    """

    fulcio: Fulcio
    rekor_v1: RekorV1
    rekor_v2: RekorV2
    tsa: TimestampAuthority | None
    tsa_outage: threading.Event = field(default_factory=threading.Event)


def make_server(services: Services, port: int = 0) -> ThreadingHTTPServer:
    """Bind 127.0.0.1:``port`` (0 picks a free port); the caller runs ``serve_forever``."""

    class Handler(_Handler):
        pass

    Handler.services = services
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


class _Handler(BaseHTTPRequestHandler):
    """One request: route by method and path, answer JSON (or a DER timestamp reply)."""

    services: Services
    server_version = "provenance-devinstance"

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        routes: dict[str, Callable[[], dict[str, Any]]] = {
            "/api/v1/log": self.services.rekor_v1.log_info,
            "/api/v2/trustBundle": self.services.fulcio.trust_bundle,
            "/healthz": lambda: {"status": "ok"},
        }
        self._respond(lambda: self._get(routes))

    def do_POST(self) -> None:
        self._respond(self._post)

    def _get(self, routes: dict[str, Callable[[], dict[str, Any]]]) -> _Reply:
        route = routes.get(self.path.split("?")[0])
        if route is None:
            raise _error(404, f"no such endpoint: GET {self.path}")
        return _json(200, route())

    def _post(self) -> _Reply:
        path, body = self.path.split("?")[0], self._body()
        if path == "/api/v1/timestamp":
            if self.services.tsa is None:
                raise _error(404, "this instance runs without a timestamp authority")
            if self.services.tsa_outage.is_set():
                raise _error(503, "the timestamp authority is unavailable (simulated outage)")
            try:
                reply = self.services.tsa.timestamp(body)
            except TimestampRejected as e:
                raise _error(400, str(e)) from e
            return _Reply(201, reply, "application/timestamp-reply")
        handlers: dict[str, Callable[[Any], dict[str, Any]]] = {
            "/api/v2/signingCert": lambda doc: self.services.fulcio.signing_cert(
                self.headers.get("Authorization"), doc
            ),
            "/api/v1/log/entries": self.services.rekor_v1.create_entry,
            "/api/v2/log/entries": self.services.rekor_v2.create_entry,
        }
        if path not in handlers:
            raise _error(404, f"no such endpoint: POST {path}")
        try:
            document = json.loads(body)
        except ValueError as e:
            raise _error(400, f"request body is not JSON: {e}") from e
        try:
            return _json(201, handlers[path](document))
        except FulcioRejected as e:
            raise _error(e.status, str(e)) from e
        except ProposalRejected as e:
            raise _error(400, str(e)) from e

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            raise _error(411, "Content-Length is required")
        if int(length) > MAX_BODY:
            raise _error(413, f"request bodies are limited to {MAX_BODY} bytes")
        return self.rfile.read(int(length))

    def _respond(self, handle: Callable[[], _Reply]) -> None:
        try:
            reply = handle()
        except _Reply as r:
            reply = r
        except Exception as e:
            _logger.exception("devinstance: %s %s failed", self.command, self.path)
            reply = _error(500, f"internal error: {e}")
        self.send_response(reply.status, HTTPStatus(reply.status).phrase)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)
