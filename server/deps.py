"""Request dependencies: the device behind a bearer token, the manager behind a session or API token."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from . import auth, storeconfig
from .db import read_row
from .ratelimit import RateLimiter
from .tokens import hash_secret

device_bearer = HTTPBearer(auto_error=False, scheme_name="DeviceToken",
                           description="The device token from POST /api/v1/enroll")
manager_bearer = HTTPBearer(auto_error=False, scheme_name="ApiToken", description="A personal API token")
session_cookie = APIKeyCookie(name="hymy_session", auto_error=False, scheme_name="Session")


@dataclass(frozen=True)
class Device:
    """The device behind a request's token, and what every device request needs of its store."""

    id: str
    store_id: str
    timezone: str  #: the store's IANA zone
    store_recoveries: int = 0  #: damaged local stores the device reported so far (its last heartbeat)


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def too_many(wait_s: float, what: str) -> HTTPException:
    return HTTPException(429, f"rate limit: too many requests from this {what}; retry later",
                         headers={"Retry-After": RateLimiter.retry_after(wait_s)})


#: The device of a token and its store's zone, in one query. Read on every device request and never
#: cached, so a revoked token is refused from the next request on.
_OF_TOKEN = "FROM devices d JOIN stores s ON s.id = d.store_id WHERE d.token_hash = ? AND d.revoked_at IS NULL"
_COLUMNS = "d.id, d.store_id, s.timezone, d.store_recoveries"  #: a :class:`Device`, in its fields' order
_DEVICE = f"SELECT {_COLUMNS} {_OF_TOKEN}"
#: :data:`_DEVICE` with its store's config texts (``server.storeconfig``): a config pull in one read.
_DEVICE_CONFIG = {d: f"SELECT {_COLUMNS}, s.config_json, {rules} {_OF_TOKEN}"
                  for d, rules in storeconfig.RULES.items()}


def device_for(engine, token: str) -> Device | None:
    """The enrolled, not revoked device whose bearer token this is (one query, straight through the
    driver: it runs on every device request), or None."""
    row = read_row(engine, _DEVICE, (hash_secret(token),))
    return None if row is None else _device(row)


def _device(row: tuple) -> Device:
    return Device(row[0], row[1], row[2], row[3] or 0)


def bearer_token(authorization: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer <token>`` header value, as FastAPI's ``HTTPBearer``
    reads them (scheme case-insensitive, the token stripped), or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def needs_token(token: str | None) -> None:
    """401 when the request carries no bearer token at all (no database work needed to say so)."""
    if not token:
        raise unauthorized("Authorization: a device bearer token is required (from POST /api/v1/enroll)")


def admit(state, token: str) -> Device:
    """The device of bearer ``token`` read now (``device_for``), admitted: 401 when there is none, 429 past its
    rate limit, else its last-seen gauge set. On any thread (``state``: the app's ``app.state``): the device
    API's PostgreSQL batches and heartbeats run it on the database thread that then stores them, so nothing
    is stored for a refused request (``server.api_device``)."""
    return _admitted(state, device_for(state.engine, token))


def admit_with_config(state, token: str) -> tuple[Device, tuple[str, bytes]]:
    """:func:`admit`, and the ``(ETag, JSON body)`` of the device's store config (``storeconfig.answer``), in
    one read: a config pull's whole database work."""
    row = read_row(state.engine, _DEVICE_CONFIG[state.engine.dialect.name], (hash_secret(token),))
    dev = _admitted(state, None if row is None else _device(row))
    return dev, storeconfig.answer_from(row[4], row[5])


def _admitted(state, dev: Device | None) -> Device:
    if dev is None:
        raise unauthorized("Authorization: unknown or revoked device token; enrol the device again")
    wait = state.device_limiter.hit(dev.id)
    if wait:
        raise too_many(wait, "device")
    state.metrics.last_seen.labels(dev.id).set(time.time())
    return dev


async def device_of(state, token: str | None) -> Device:
    """The enrolled, not revoked device of bearer ``token`` (``state``: the app's ``app.state``); 401
    otherwise; 429 past its rate limit. Its last-seen gauge set."""
    needs_token(token)
    # SQLite: one indexed read of a local file in WAL mode (never waits for a writer), inline; PostgreSQL:
    # on a database thread (server.offload)
    return await state.offload.read(admit, state, token)


async def current_device(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(device_bearer)) -> Device:
    """The enrolled, not revoked device of the bearer token; 401 otherwise; 429 past its rate limit."""
    return await device_of(request.app.state, creds.credentials if creds is not None else None)


async def current_user(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(manager_bearer),
    session: str | None = Depends(session_cookie),
) -> auth.User:
    """The signed-in user (API token or session cookie); 401 otherwise."""
    engine = request.app.state.engine
    user = None
    if creds is not None and creds.credentials:
        user = await run_in_threadpool(auth.user_for_token, engine, creds.credentials)
    else:
        sid = request.cookies.get(request.app.state.settings.session_cookie) or session
        if sid:
            user = await run_in_threadpool(auth.user_for_session, engine, sid,
                                           request.app.state.settings.session_idle_s)
    if user is None:
        raise unauthorized("sign in (session cookie) or send a personal API token as Authorization: Bearer")
    return user
