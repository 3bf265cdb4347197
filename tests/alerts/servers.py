"""Real loopback servers for the alert tests: an HTTP webhook receiver and an aiosmtpd mail server."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests import procs


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


class WebhookReceiver:
    """A real HTTP server on 127.0.0.1 (free port) that records every POST.

    ``statuses``: the HTTP status to answer for each successive request (then 200 forever).
    ``hold``: a slow receiver: the first request is recorded at once but answered only once this event
    is set (at most 30 s), so a test can act while a sender waits for the answer.
    """

    def __init__(self, statuses: list[int] | None = None, hold: threading.Event | None = None):
        self.statuses = list(statuses or [])
        self.hold = hold
        self.requests: list[Received] = []
        self._cv = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer._cv:
                    outer.requests.append(Received(self.path, dict(self.headers.items()), body, time.monotonic()))
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    first = len(outer.requests) == 1
                    outer._cv.notify_all()
                if first and outer.hold is not None:
                    outer.hold.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list[Received]:
        """Block until ``count`` requests arrived (or the timeout); return what arrived."""
        deadline = time.monotonic() + timeout_s
        with self._cv:
            while len(self.requests) < count and time.monotonic() < deadline:
                self._cv.wait(deadline - time.monotonic())
            return list(self.requests)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class MailSink:
    """Messages aiosmtpd received: parsed ``email.message.EmailMessage`` plus the envelope."""

    messages: list = field(default_factory=list)
    envelopes: list = field(default_factory=list)
    cv: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        with self.cv:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), bool(session.ssl)))
            self.cv.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout_s: float = 10.0) -> list:
        deadline = time.monotonic() + timeout_s
        with self.cv:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.cv.wait(deadline - time.monotonic())
            return list(self.messages)


def make_cert(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    key, cert = tmp / "smtp.key", tmp / "smtp.crt"
    procs.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    return cert, key


@contextmanager
def smtp_server(*, cert: tuple[Path, Path] | None = None, require_starttls: bool = False,
                users: dict[str, str] | None = None, sink: MailSink | None = None):
    """A real aiosmtpd server on 127.0.0.1 (free port). With ``cert`` it offers STARTTLS; with
    ``users`` it requires AUTH LOGIN/PLAIN with those passwords; ``sink`` receives the messages (a
    MailSink subclass may be slow). Yields (port, MailSink)."""
    import ssl

    sink = sink or MailSink()
    kwargs: dict = {}
    if cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        kwargs.update(tls_context=ctx, require_starttls=require_starttls)
    if users is not None:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = users.get(auth_data.login.decode()) == auth_data.password.decode()
            return AuthResult(success=ok, handled=False)

        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(cert))
    for _ in range(5):
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            continue
    else:
        raise RuntimeError("could not start aiosmtpd on a free port")
    try:
        yield port, sink
    finally:
        controller.stop()
