"""The device API's hot path as plain ASGI: ``POST /api/v1/responses``, ``POST /api/v1/heartbeat`` and
``GET /api/v1/config`` answered without FastAPI's routing, dependency solving, exception layers and
thread hand-offs (a profile of the server under bench/fleet.py: those took more CPU than the request's
own work).

``app.add_middleware(DevicePath)`` inside :class:`server.middleware.Guard` (which still refuses NUL
characters, applies the per-address limit and the body-size checks, and counts every request in the
metrics). For those three method + path pairs it does what the FastAPI operations of
``server.api_device`` do, with the same code (``device_of``, ``take_batch``, ``beat``,
``config_reply``): the same statuses, error bodies, limits, metrics, and the token checked against the
database on every request (a revoked token is refused at once). The FastAPI operations stay: they
document these paths in ``/openapi.json``, and they answer what this path declines (a heartbeat whose
body is not declared ``application/json`` with a length, so FastAPI's own rules for other bodies hold).
Its database work runs as ``server.offload`` says (SQLite: reads inline, writes on one writer thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.routing import get_route_path

from hymy.protocol import Heartbeat

from .api_device import beat, config_reply, router, take_batch
from .body import JsonRequest
from .deps import admit_with_config, bearer_token, device_of, needs_token
from .middleware import answer, respond

PREFIX = "/api/v1"
Handler = Callable[[dict, Callable, Callable, dict], Awaitable[bool]]


def _headers(scope) -> dict[bytes, bytes]:
    """The request's headers by lower-case name (the first of repeated ones, as Starlette's ``get``)."""
    out: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        out.setdefault(name, value)
    return out


def _text(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return None if value is None else value.decode("latin-1")


async def _responses(scope, receive, send, headers) -> bool:
    token = bearer_token(_text(headers, b"authorization"))
    await respond(send, 200, await take_batch(Request(scope, receive), token=token))
    return True


def _json_body(headers) -> bool:
    """Does the heartbeat declare a non-empty JSON body (the sync agent's)? Else FastAPI answers it."""
    kind = (_text(headers, b"content-type") or "").split(";", 1)[0].strip().lower()
    length = _text(headers, b"content-length") or ""
    return kind == "application/json" and length.isdigit() and int(length) > 0


async def _heartbeat(scope, receive, send, headers) -> bool:
    if not _json_body(headers):
        return False
    state = scope["app"].state
    data = await JsonRequest(scope, receive).json()  # 400 / 422 before the token, as FastAPI reads bodies
    token = bearer_token(_text(headers, b"authorization"))
    # the token's 401 / 429 before the body's 422; on PostgreSQL checked where the heartbeat is recorded
    if state.offload.inline_reads:
        dev = await device_of(state, token)
    else:
        needs_token(token)
        dev = None
    try:
        hb = Heartbeat.model_validate(data, from_attributes=True)
    except ValidationError as exc:  # FastAPI's own 422 for a body model
        if dev is None:
            await device_of(state, token)
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        await answer(send, 422, jsonable_encoder(errors))
        return True
    result = await beat(state, dev, hb, token)
    await respond(send, 200, result.model_dump_json(by_alias=True).encode())
    return True


async def _config(scope, receive, send, headers) -> bool:
    state = scope["app"].state
    token = bearer_token(_text(headers, b"authorization"))
    needs_token(token)
    _, got = await state.offload.read(admit_with_config, state, token)  # the token and the config in one read
    status, body, extra = config_reply(got, _text(headers, b"if-none-match"))
    await respond(send, status, body, extra)
    return True


HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", PREFIX + "/responses"): _responses,
    ("POST", PREFIX + "/heartbeat"): _heartbeat,
    ("GET", PREFIX + "/config"): _config,
}


class DevicePath:
    """ASGI middleware: see the module's doc. ``scope["route"]`` is set to the documented FastAPI route,
    so the metrics count these requests under their templates as before."""

    def __init__(self, app):
        self.app = app
        documented = {(m, r.path): r for r in router.routes if isinstance(r, APIRoute) for m in r.methods}
        self._routes = {key: (handler, documented[key]) for key, handler in HANDLERS.items()}

    async def __call__(self, scope, receive, send) -> None:
        found = self._routes.get((scope.get("method"), get_route_path(scope))) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        handler, route = found
        scope["route"] = route
        try:
            done = await handler(scope, receive, send, _headers(scope))
        except HTTPException as exc:  # FastAPI's handler of HTTPException: {"detail": ...} and its headers
            await answer(send, exc.status_code, exc.detail, exc.headers)
            return
        except ClientDisconnect:  # gone before its body arrived: nobody to answer
            return
        if not done:
            await self.app(scope, receive, send)
