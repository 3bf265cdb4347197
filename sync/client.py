"""The I/O edge to the central server: one ``requests.Session``, the four device endpoints.

Timeouts: connect 5 s, read 30 s. TLS is always verified, against the system CA store (Debian's
``/etc/ssl/certs/ca-certificates.crt``, where a shop's own CA can be installed with
``update-ca-certificates``) or the configured ``server.ca_bundle``; there is no switch to turn it off.
The device token goes only into the ``Authorization`` header and never into a log line, an exception
text or a ``repr``.
"""

from __future__ import annotations

import gzip
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import requests
from urllib3.exceptions import ConnectTimeoutError

from hymy import __version__
from hymy.errors import ConfigError, NotEnrolled, ServerUnreachable, SyncError
from hymy.protocol import EnrollRequest, EnrollResponse, Heartbeat, HeartbeatResult, StoreConfig
from sync.backoff import parse_retry_after
from sync.delivery import Outcome

log = logging.getLogger(__name__)

#: Seconds to wait for a TCP/TLS connection.
CONNECT_TIMEOUT_S = 5.0
#: Seconds to wait for the server's answer once connected.
READ_TIMEOUT_S = 30.0
#: gzip level for batch bodies: 3 compresses 150 KiB of events about 10:1 in under a millisecond
#: (level 6, zlib's default, takes 3-4 times longer for 15 % smaller bodies).
GZIP_LEVEL = 3
USER_AGENT = f"hymy-sync/{__version__}"
API = "/api/v1"


def gzip_body(body: bytes) -> bytes:
    """A batch body as sent: gzip at GZIP_LEVEL, no timestamp in the header (same bytes for the same body)."""
    return gzip.compress(body, GZIP_LEVEL, mtime=0)


def system_ca_bundle() -> str | bool:
    """The system CA file (OpenSSL's default, e.g. /etc/ssl/certs/ca-certificates.crt), else True (certifi)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and os.path.isfile(candidate):
            return candidate
    return True


class Token:
    """A secret string that does not show itself: ``str``/``repr`` are masked; ``.value`` is the secret."""

    __slots__ = ("value",)

    def __init__(self, value: str):
        self.value = value

    def __repr__(self) -> str:
        return "Token(***)"

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class ConfigAnswer:
    """Result of ``GET /api/v1/config``: ``changed`` False on 304; ``body`` the raw JSON on 200."""

    changed: bool
    body: bytes | None = None
    etag: str | None = None


class Client:
    """Talks to one server ``base_url`` (``https://hymy.example.org``, no trailing slash).

    ``token`` is the device token (None before enrolment); ``ca_bundle`` a PEM file to trust instead
    of the system CA store.
    """

    def __init__(self, base_url: str, token: str | None = None, *, ca_bundle: str | Path | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S):
        self.base_url = base_url.rstrip("/")
        self._token = Token(token) if token else None
        self.timeout = (connect_timeout, read_timeout)
        self.session = requests.Session()
        if ca_bundle and not Path(ca_bundle).is_file():
            raise ConfigError(f"server.ca_bundle: {ca_bundle} is not a file; give the PEM file of the CA that "
                              "signed the server's certificate, or remove the key to use the system CA store")
        self.session.verify = str(ca_bundle) if ca_bundle else system_ca_bundle()
        self.session.trust_env = False  # no proxy or .netrc surprises on a kiosk
        self.session.headers["User-Agent"] = USER_AGENT

    def __repr__(self) -> str:
        return f"Client({self.base_url!r})"

    def set_token(self, token: str | None) -> None:
        self._token = Token(token) if token else None

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def close(self) -> None:
        self.session.close()

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.value}"
        return headers

    def _request(self, method: str, path: str, **kw) -> requests.Response:
        """One request; network failures become SyncError with a short text (no token, no body), and
        ServerUnreachable when the request never reached the server (``unreached``)."""
        try:
            return self.session.request(method, self.base_url + API + path, timeout=self.timeout, **kw)
        except requests.RequestException as exc:
            error = ServerUnreachable if unreached(exc) else SyncError
            raise error(f"{method} {path}: {_short(exc)}") from None

    # ------------------------------------------------------------------ endpoints

    def post_batch(self, body: bytes) -> Outcome:
        """``POST /api/v1/responses`` with a gzip'd batch body; never raises for network or HTTP errors."""
        return self.post_gzipped(gzip_body(body))

    def post_gzipped(self, data: bytes) -> Outcome:
        """:meth:`post_batch` of a body gzip'd already (the agent compresses the next batch while it waits
        for the answer to the current one)."""
        headers = self._headers({"Content-Type": "application/json", "Content-Encoding": "gzip"})
        try:
            resp = self._request("POST", "/responses", data=data, headers=headers)
        except SyncError as exc:
            return Outcome.network_error(str(exc), reached=not isinstance(exc, ServerUnreachable))
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        results = None
        detail = ""
        if 200 <= resp.status_code < 300:
            try:
                doc = resp.json()
                results = doc["results"] if isinstance(doc, dict) and isinstance(doc.get("results"), list) else None
            except ValueError:
                results = None
            if results is None:
                detail = "the server's answer had no per-id results"
        else:
            detail = _error_detail(resp)
        return Outcome.http(resp.status_code, results, retry_after, detail)

    def enroll(self, code: str, device_name: str | None = None) -> EnrollResponse:
        """``POST /api/v1/enroll``: a one-time code for a device id, token and store config.

        Raises NotEnrolled when the server refuses the code (4xx), SyncError on network or 5xx.
        """
        req = EnrollRequest(code=code, device_name=device_name, app_version=__version__)
        resp = self._request("POST", "/enroll", data=req.model_dump_json(), headers={"Content-Type": "application/json"})
        if 400 <= resp.status_code < 500 and resp.status_code not in (408, 429):
            raise NotEnrolled(f"enrolment code refused (HTTP {resp.status_code}: {_error_detail(resp)})")
        if resp.status_code != 200 and resp.status_code != 201:
            raise _http_error("POST /enroll", resp)
        try:
            return EnrollResponse.model_validate_json(resp.content)
        except ValueError as exc:
            raise SyncError(f"POST /enroll: unreadable answer: {_short(exc)}") from None

    def heartbeat(self, beat: Heartbeat) -> HeartbeatResult:
        """``POST /api/v1/heartbeat``; NotEnrolled on 401/403, SyncError otherwise."""
        # without a recovery to report the field is left out, so a server older than it still takes the beat
        body = beat.model_dump_json(exclude={"store_recoveries"} if not beat.store_recoveries else None)
        resp = self._request("POST", "/heartbeat", data=body,
                             headers=self._headers({"Content-Type": "application/json"}))
        _check_auth("POST /heartbeat", resp)
        if not 200 <= resp.status_code < 300:
            raise _http_error("POST /heartbeat", resp)
        try:
            return HeartbeatResult.model_validate_json(resp.content)
        except ValueError as exc:
            raise SyncError(f"POST /heartbeat: unreadable answer: {_short(exc)}") from None

    def get_config(self, etag: str | None) -> ConfigAnswer:
        """``GET /api/v1/config`` with ``If-None-Match``; 304 -> unchanged. Raises NotEnrolled / SyncError."""
        extra = {"If-None-Match": etag} if etag else {}
        resp = self._request("GET", "/config", headers=self._headers(extra))
        _check_auth("GET /config", resp)
        if resp.status_code == 304:
            return ConfigAnswer(False, None, etag)
        if resp.status_code != 200:
            raise _http_error("GET /config", resp)
        return ConfigAnswer(True, resp.content, resp.headers.get("ETag"))


def unreached(exc: requests.RequestException) -> bool:
    """True when no connection to the server was made: refused, no route, name not resolved, connect
    timeout (urllib3's ``NewConnectionError`` and ``NameResolutionError`` are ``ConnectTimeoutError``s).
    A reset or a read timeout on an open connection reached the server: False."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, ConnectTimeoutError)


def parse_config(body: bytes) -> StoreConfig:
    """Validate a config body; ValueError names what is wrong (the agent then keeps the last good one)."""
    return StoreConfig.model_validate_json(body)


def _check_auth(what: str, resp: requests.Response) -> None:
    if resp.status_code in (401, 403):
        raise NotEnrolled(f"{what}: device not enrolled or revoked (HTTP {resp.status_code})")


def _http_error(what: str, resp: requests.Response) -> SyncError:
    err = SyncError(f"{what}: HTTP {resp.status_code}: {_error_detail(resp)}".rstrip(": "))
    err.retry_after = parse_retry_after(resp.headers.get("Retry-After"))  # type: ignore[attr-defined]
    return err


def _error_detail(resp: requests.Response) -> str:
    """The server's ``detail`` (FastAPI style) or the start of the body, one line, at most 200 chars."""
    try:
        doc = resp.json()
        detail = doc.get("detail") if isinstance(doc, dict) else None
        text = detail if isinstance(detail, str) else str(detail if detail is not None else doc)
    except ValueError:
        text = resp.text
    return " ".join(text.split())[:200]


def _short(exc: BaseException) -> str:
    """A one-line, bounded description of a requests/urllib3 failure."""
    kind = type(exc).__name__
    text = " ".join(str(exc).split())
    if "Read timed out" in text:
        text = "read timed out"
    elif "Connection refused" in text:
        text = "connection refused"
    elif "timed out" in text and "connect" in text.lower():
        text = "connect timed out"
    return f"{kind}: {text[:160]}"
