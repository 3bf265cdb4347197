"""The app's one middleware, as plain ASGI (no Starlette ``BaseHTTPMiddleware``, which ran every request's
app in a task group of its own with a memory stream between them).

Before the app, for every HTTP request:

- a NUL character in the path or a query parameter: 422 naming it (no database stores NUL);
- ``/api/*``: the per-address rate limit (429 + ``Retry-After``); on POST, PUT and PATCH a chunked body
  without ``Content-Length`` is 411 and a declared length over the body limit 413.

After it: a 405's ``Allow`` names every method of the path, and the request is counted in the app's
metrics by method, route template and status, with its time in the latency histogram (a bounded label
set: the route's template such as ``/api/v1/stores/{store_id}/daily``, or ``other`` when none matched).
"""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

from starlette.routing import Match

from .jsontext import field_name
from .ratelimit import RateLimiter

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")
_WRITES = ("POST", "PUT", "PATCH")


def allowed_methods(app, scope) -> set[str]:
    """Every method some route of ``app`` answers at the path of ``scope``: the ``Allow`` of a 405.
    Starlette lists only the methods of the first route whose path matched (POST but not DELETE for
    /api/v1/session); this asks every route, for every method, through the public ``matches``."""
    return {m for m in METHODS if any(route.matches({**scope, "method": m})[0] is Match.FULL
                                      for route in app.router.routes)}


def nul_parameter(scope) -> list[str] | None:
    """``["path"]`` or ``["query", name]`` when the URL carries a NUL character (no database stores it)."""
    if "\x00" in scope["path"]:
        return ["path"]
    query: bytes = scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        for key, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return ["query", key]
        return ["query"]
    return None


async def respond(send, status: int, body: bytes, headers: dict[str, str] | None = None,
                  content_type: bytes | None = b"application/json") -> None:
    """Send a whole response: ``headers``, and unless ``status`` is 304 the length and ``content_type``."""
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if status != 304:
        raw.append((b"content-length", str(len(body)).encode()))
        if content_type:
            raw.append((b"content-type", content_type))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def answer(send, status: int, detail, headers: dict[str, str] | None = None) -> None:
    """An error answer as FastAPI writes one: ``{"detail": detail}``."""
    await respond(send, status, json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":")).encode(),
                  headers)


class Guard:
    """``app.add_middleware(Guard, max_body_bytes=...)``: see the module's doc. Reads the limiter and the
    metrics from ``scope["app"].state`` (``ip_limiter``, ``metrics``) when the request arrives."""

    def __init__(self, app, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope["app"].state
        refusal = self._refusal(scope, state)
        status = 500
        if refusal is not None:
            status = refusal[0]
            await answer(send, *refusal)
        else:
            async def sending(message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if status == 405:
                        allow = ", ".join(sorted(allowed_methods(scope["app"], scope)))
                        message["headers"] = [*(h for h in message.get("headers", []) if h[0].lower() != b"allow"),
                                              (b"allow", allow.encode())]
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                route = scope.get("route")
                state.metrics.observe(scope["method"], getattr(route, "path", "other"), status,
                                      time.perf_counter() - started)
            return
        state.metrics.observe(scope["method"], "other", status, time.perf_counter() - started)

    def _refusal(self, scope, state) -> tuple | None:
        """``(status, detail, headers)`` when the request is refused before the app, else None."""
        nul = nul_parameter(scope)
        if nul is not None:
            return 422, [{"loc": nul, "msg": f"{field_name(nul[1:] or nul)}: must not contain a NUL character",
                          "type": "string_nul"}]
        if not scope["path"].startswith("/api/"):
            return None
        client = scope.get("client")
        wait = state.ip_limiter.hit(client[0] if client else "?")
        if wait:
            return 429, "rate limit: too many requests from this address; retry later", {
                "Retry-After": RateLimiter.retry_after(wait)}
        if scope["method"] in _WRITES:
            length = chunked = None
            for name, value in scope["headers"]:
                if name == b"content-length":
                    length = value.decode("latin-1")
                elif name == b"transfer-encoding":
                    chunked = value
            if length is None and chunked:
                return 411, "Content-Length: required"
            if length and (not length.isdigit() or int(length) > self.max_body_bytes):
                return 413, f"body: larger than {self.max_body_bytes} bytes"
        return None
