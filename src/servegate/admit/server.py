"""The webhook's HTTPS server: ``POST /validate`` (AdmissionReview), ``GET /healthz`` and ``GET /readyz``.

It sits on the API server's request path, so it is built for that: TLS only (1.2 or later, forward-secret AEAD
suites), keep-alive connections (the API server reuses them), a body size limit and a time limit per request,
the certificate reloaded when its files change (cert-manager renews it in place), and a graceful stop on SIGTERM
(readiness fails first, then no new connections, then in-flight requests finish). Replicas share no state.

Standard library only: ``http.server.ThreadingHTTPServer`` with an ``ssl.SSLContext``. The TLS handshake runs
in the connection's own thread, never in the accept loop, so a slow client holds up nobody.
"""

from __future__ import annotations

import gc
import json
import os
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from servegate.admit.logs import JsonLog
from servegate.admit.review import (AdmissionRequest, BadReview, CheckFailed, Reviewer, Verdict, error_document,
                                    parse_review, review_document)
from servegate.admit.watchdog import Watchdog
from servegate.admit.workers import ConnectionShares

HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 60.0  # a kept-alive connection with no request for this long is closed (Go's client idles 90 s)
UID_PREFIX_BYTES = 64 * 1024  # of an oversized body, read to find the request uid for the error answer
DISCARD_LIMIT = 64 * 1024 * 1024  # an oversized body up to this size is read and dropped, so the client sees 413
MAX_CONNECTIONS = 256  # each holds a thread; past this, new ones are closed at once (the API server needs a few)
# Kept-alive connections are balanced once, when they open (by kube-proxy across replicas, by the kernel across
# worker processes): closing each after about this many seconds lets the load spread again.
CONNECTION_MAX_AGE = 30.0
ACCEPT_DEFERRAL = 0.005  # how long a worker holding more connections than another waits before it accepts one
UID = re.compile(rb'"uid"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')
# TLS 1.2 suites with forward secrecy and authenticated encryption; TLS 1.3 offers nothing weaker.
TLS12_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(TLS12_CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    context.load_cert_chain(cert, key)
    return context


class CertificateFiles:
    """The serving certificate and key, reloaded when either file changes (mtime, size or inode: a Secret
    volume swaps a symlink). A half-written pair fails to load and is retried at the next look."""

    def __init__(self, cert: Path, key: Path, log: JsonLog) -> None:
        self.cert, self.key, self.log = cert, key, log
        self.signature = self._signature()
        self.context = tls_context(cert, key)

    def _signature(self) -> tuple | None:
        try:
            return tuple((s.st_mtime_ns, s.st_size, s.st_ino) for s in (os.stat(self.cert), os.stat(self.key)))
        except OSError:
            return None

    def reload_if_changed(self) -> bool:
        signature = self._signature()
        if signature is None or signature == self.signature:
            return False
        try:
            context = tls_context(self.cert, self.key)
        except (ssl.SSLError, OSError) as exc:
            self.log("warning", "certificate_reload_failed", cert=str(self.cert), error=str(exc))
            return False
        self.context, self.signature = context, signature  # new connections use it; open ones keep theirs
        self.log("info", "certificate_reloaded", cert=str(self.cert))
        return True


class AdmissionServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], reviewer: Reviewer, certificates: CertificateFiles,
                 log: JsonLog, listener: socket.socket | None = None,
                 shares: ConnectionShares | None = None) -> None:
        self.reviewer, self.certificates, self.log = reviewer, certificates, log
        self.shares = shares  # with sibling worker processes on one listener: the connections each holds
        self.settings = reviewer.settings
        self.draining = False
        self.watchdog = Watchdog()
        self.open_connections = 0
        self.max_connections = MAX_CONNECTIONS
        self.connection_max_age = CONNECTION_MAX_AGE
        self._lock = threading.Lock()
        self.connections: set[AdmissionHandler] = set()
        super().__init__(address, AdmissionHandler, bind_and_activate=listener is None)
        if listener is not None:  # a socket shared by worker processes (see workers.py)
            self.socket.close()
            self.socket = listener
            self.server_address = listener.getsockname()

    def get_request(self) -> tuple[socket.socket, Any]:
        if self.shares is not None and self.shares.others_hold_fewer():
            time.sleep(ACCEPT_DEFERRAL)  # a sibling takes it, and accept() fails here (the server skips that)
        sock, address = self.socket.accept()
        return self.certificates.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            refused = self.open_connections >= self.max_connections
            self.open_connections += 0 if refused else 1
            self._report_connections()
        if refused:
            self.log("warning", "connection_refused", client=client_address[0],
                     reason=f"{self.max_connections} connections already open")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self.open_connections -= 1
                self._report_connections()

    def _report_connections(self) -> None:
        if self.shares is not None:
            self.shares.report(self.open_connections)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError)) or (self.draining and
                                                                                isinstance(error, OSError)):
            self.log("debug", "connection_error", client=client_address[0], error=str(error))
            return
        self.log("error", "internal_error", client=client_address[0], error=f"{type(error).__name__}: {error}")

    @property
    def healthy(self) -> bool:
        return self.watchdog.healthy

    @property
    def ready(self) -> bool:
        return self.healthy and not self.draining

    def server_close(self) -> None:
        """Stop listening and wait for the requests in flight. Each is answered within the time limit (by the
        watchdog when its judgement overruns): a judgement still running after that is not waited for."""
        super().server_close()  # socketserver joins no daemon thread: the connections' are joined here
        deadline = time.monotonic() + self.settings.timeout + 1.0
        with self._lock:
            threads = [handler.thread for handler in self.connections]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.watchdog.stop()

    def close_idle_connections(self) -> None:
        """Close kept-alive connections waiting for a request; those serving one finish it."""
        with self._lock:
            idle = [handler for handler in self.connections if not handler.busy]
        for handler in idle:
            try:
                socket.socket.shutdown(handler.connection, socket.SHUT_RDWR)  # wakes its thread with end-of-file
            except OSError:
                pass


class AdmissionHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the API server reuses its connections
    server_version = "servegate-admit"
    sys_version = ""
    server: AdmissionServer
    disable_nagle_algorithm = True  # headers and body are separate writes: never wait for the client's ACK
    busy = False
    thread: threading.Thread  # the connection's, set once its TLS handshake is done
    deadline = 0.0
    body_read = False
    retire_at = 0.0

    def setup(self) -> None:
        self.retire_at = time.monotonic() + self.server.connection_max_age * random.uniform(0.8, 1.2)  # no herds
        self.request.settimeout(HANDSHAKE_TIMEOUT)
        self.request.do_handshake()
        super().setup()
        self.thread = threading.current_thread()
        with self.server._lock:
            self.server.connections.add(self)

    def finish(self) -> None:
        with self.server._lock:
            self.server.connections.discard(self)
        super().finish()

    def handle_one_request(self) -> None:
        self.busy = False
        self.connection.settimeout(IDLE_TIMEOUT)
        super().handle_one_request()
        self.busy = False

    def parse_request(self) -> bool:
        self.busy, self.body_read = True, False
        self.deadline = time.monotonic() + self.server.settings.timeout
        self.connection.settimeout(self.server.settings.timeout)
        parsed = super().parse_request()
        if self.server.draining or time.monotonic() > self.retire_at:
            self.close_connection = True  # the client reconnects: to a replica that is not stopping, or anywhere
        return parsed

    # -- routes ------------------------------------------------------------------------------------------------
    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path == "/healthz":
            self._send_text(200 if self.server.healthy else 503, "ok" if self.server.healthy else "overloaded")
        elif path == "/readyz":
            self._send_text(200 if self.server.ready else 503, "ok" if self.server.ready else "not ready")
        else:
            self._send_text(404, "not found")

    def do_POST(self) -> None:
        started = time.monotonic()
        if self.path.partition("?")[0] != "/validate":
            self._send_text(404, "not found")
            return
        length = self._content_length()
        if length is None:
            return
        if length > self.server.settings.max_body_bytes:
            self._refuse_oversized(length, started)
            return
        try:
            body = self._read_body(length)
        except TimeoutError:
            self.close_connection = True
            self._answer_error("", 408, f"the body did not arrive within {self.server.settings.timeout:g} s",
                               started)
            return
        try:
            request = parse_review(body)
        except BadReview as exc:
            self._answer_error(exc.uid, 400, str(exc), started)
            return
        watch = self.server.watchdog.watch(self.deadline, lambda: self._overrun(request, started))
        try:
            verdict: Verdict | None = self.server.reviewer.judge(request)
            failure = ""
        except CheckFailed as exc:
            verdict, failure = None, f"servegate could not judge the object: {exc}"
        except Exception as exc:  # noqa: BLE001 - no verdict: the failurePolicy decides, the log says why
            verdict, failure = None, f"servegate internal error: {type(exc).__name__}: {exc}"
        if not self.server.watchdog.done(watch):
            self.close_connection = True  # answered by the watchdog already
            self.server.log("warning", "late_verdict", **_request_fields(request), duration_ms=_ms(started))
        elif verdict is None:
            self._answer_error(request.uid, 500, failure, started, request)
        else:
            self._log_verdict(request, verdict, started)  # first: the log holds every verdict a client has seen
            self._send_json(200, review_document(request.uid, verdict))

    def _overrun(self, request: AdmissionRequest, started: float) -> None:
        """The watchdog's answer (from its thread) to a judgement past the time limit; the connection then closes,
        since its thread is still judging."""
        self.close_connection = True
        try:
            self._answer_error(request.uid, 500, f"servegate did not reach a verdict within "
                                                 f"{self.server.settings.timeout:g} s", started, request)
        except OSError as exc:
            self.server.log("debug", "connection_error", client=self.client_address[0], error=str(exc))

    # -- pieces ------------------------------------------------------------------------------------------------
    def _content_length(self) -> int | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower() or "Content-Length" not in self.headers:
            self.close_connection = True
            self._answer_error("", 411, "a Content-Length is required", time.monotonic())
            return None
        content_type = self.headers.get("Content-Type", "")
        try:
            length = int(self.headers["Content-Length"])
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._answer_error("", 400, "invalid Content-Length", time.monotonic())
            return None
        if "json" not in content_type.lower():
            self.close_connection = True
            self._answer_error("", 415, f"expected application/json, not {content_type or 'no content type'}",
                               time.monotonic())
            return None
        return length

    def _read_body(self, length: int) -> bytes:
        chunks, remaining = [], length
        while remaining:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.connection.settimeout(left)
            chunk = self.rfile.read1(min(remaining, 65536))
            if not chunk:
                raise ConnectionError("the client closed the connection before sending the whole body")
            chunks.append(chunk)
            remaining -= len(chunk)
        self.body_read = True
        return b"".join(chunks)

    def _refuse_oversized(self, length: int, started: float) -> None:
        """413, with the request's uid when the start of the body names it. The rest is read and dropped when
        that is cheap enough: a client still sending would otherwise see a reset, not the answer."""
        self.close_connection = True
        uid = ""
        try:
            prefix = self._read_body(min(length, UID_PREFIX_BYTES))
            match = UID.search(prefix)
            uid = match.group(1).decode() if match else ""
            remaining = length - len(prefix)
            while 0 < remaining <= DISCARD_LIMIT:
                remaining -= len(self._read_body(min(remaining, 1024 * 1024)))
        except (TimeoutError, ConnectionError):
            pass
        self._answer_error(uid, 413, f"the request is {length} bytes, over the webhook's limit of "
                                     f"{self.server.settings.max_body_bytes} bytes", started)

    def _answer_error(self, uid: str, code: int, message: str, started: float,
                      request: AdmissionRequest | None = None) -> None:
        fields = _request_fields(request) if request else {"uid": uid}
        self.server.log("warning" if code < 500 else "error", "admission_error", status=code, error=message,
                        duration_ms=_ms(started), **fields)
        self._send_json(code, error_document(uid, code, message))

    def _log_verdict(self, request: AdmissionRequest, verdict: Verdict, started: float) -> None:
        settings = self.server.settings
        self.server.log(
            "info", "admission", **_request_fields(request), allowed=verdict.allowed,
            dry_run=settings.dry_run,
            denied=[{"rule": f.rule_id, "severity": f.severity.label, "path": f.location.path}
                    for f in verdict.denying],
            warned=[f.rule_id for f in verdict.warning], suppressed=[f.rule_id for f in verdict.suppressed],
            **({"skipped": verdict.skipped} if verdict.skipped else {}),
            **({"notes": list(verdict.notes)} if verdict.notes else {}),
            **({"message": verdict.message} if verdict.message else {}),
            duration_ms=_ms(started),
        )

    def _send_json(self, status: int, document: dict) -> None:
        self._send(status, "application/json", json.dumps(document, ensure_ascii=False).encode())

    def _send_text(self, status: int, text: str) -> None:
        self._send(status, "text/plain; charset=utf-8", (text + "\n").encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        if self.command == "POST" and not self.body_read:
            self.close_connection = True  # what is left of the request would be read as the next one
        if self.server.draining:
            self.close_connection = True  # stopping: the client goes on with another replica
        self.connection.settimeout(self.server.settings.timeout)  # reading may have left it nearly spent
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass  # every admission is logged with its verdict; probes are not worth a line each

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log("warning", "http", client=self.client_address[0], message=format % args)


class Webhook:
    """The server, its certificate watcher and an orderly stop; ``run_until_signalled`` is the command."""

    def __init__(self, reviewer: Reviewer, cert: Path, key: Path, host: str = "0.0.0.0", port: int = 8443,
                 log: JsonLog | None = None, reload_interval: float = 10.0, shutdown_delay: float = 0.0,
                 listener: socket.socket | None = None, shares: ConnectionShares | None = None) -> None:
        self.log = log or JsonLog()
        self.certificates = CertificateFiles(cert, key, self.log)
        self.server = AdmissionServer((host, port), reviewer, self.certificates, self.log, listener, shares)
        self.reload_interval, self.shutdown_delay = reload_interval, shutdown_delay
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        # What is loaded by now (rules, policies, the registry) lives until exit: frozen, it is left out of the
        # collector's full passes, which otherwise walk all of it (pauses of tens of milliseconds, measured).
        gc.collect()  # garbage frozen would never be freed
        gc.freeze()
        self._threads = [threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                          name="accept"),
                         threading.Thread(target=self._watch_certificates, name="certificates", daemon=True)]
        for thread in self._threads:
            thread.start()
        settings = self.server.settings
        self.log("info", "started", port=self.port, deny=sorted(s.label for s in settings.deny),
                 warn=sorted(s.label for s in settings.warn), dry_run=settings.dry_run,
                 exclude_namespaces=sorted(settings.exclude_namespaces), skip_rules=list(settings.skip_rules))

    def stop(self) -> None:
        """Fail readiness, wait ``shutdown_delay`` (the Service drops the endpoint meanwhile), stop accepting,
        close idle connections and let in-flight requests finish."""
        if self.server.draining:
            return  # stopping already
        self.server.draining = True
        self.log("info", "draining", delay_s=self.shutdown_delay)
        time.sleep(self.shutdown_delay)
        self.server.shutdown()
        self.server.close_idle_connections()
        self.server.server_close()  # waits for the requests in flight
        self._stopping.set()
        self.log("info", "stopped")

    def run_until_signalled(self) -> None:
        received = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: received.set())
        self.start()
        while not received.wait(1.0):
            pass
        self.stop()

    def _watch_certificates(self) -> None:
        while not self._stopping.wait(self.reload_interval):
            self.certificates.reload_if_changed()


def _request_fields(request: AdmissionRequest) -> dict[str, Any]:
    return {"uid": request.uid, "operation": request.operation, "kind": request.kind,
            "namespace": request.namespace, "name": request.name, "user": request.user,
            "client_dry_run": request.dry_run}


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)
