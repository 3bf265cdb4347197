"""Request dependencies: the device behind a bearer token, the manager behind a session or API token."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from . import auth
from . import tables as t
from .admin import device_for_token
from .ratelimit import RateLimiter

device_bearer = HTTPBearer(auto_error=False, scheme_name="DeviceToken",
                           description="The device token from POST /api/v1/enroll")
manager_bearer = HTTPBearer(auto_error=False, scheme_name="ApiToken", description="A personal API token")
session_cookie = APIKeyCookie(name="hymy_session", auto_error=False, scheme_name="Session")


@dataclass(frozen=True)
class Device:
    id: str
    store_id: str
    timezone: str


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def too_many(wait_s: float, what: str) -> HTTPException:
    return HTTPException(429, f"rate limit: too many requests from this {what}; retry later",
                         headers={"Retry-After": RateLimiter.retry_after(wait_s)})


def _device_row(engine, token: str):
    with engine.connect() as conn:
        row = device_for_token(conn, token)
        if row is None:
            return None
        tz = conn.execute(select(t.stores.c.timezone).where(t.stores.c.id == row.store_id)).scalar_one()
        return Device(row.id, row.store_id, tz)


async def current_device(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(device_bearer)) -> Device:
    """The enrolled, not revoked device of the bearer token; 401 otherwise; 429 past its rate limit."""
    if creds is None or not creds.credentials:
        raise unauthorized("Authorization: a device bearer token is required (from POST /api/v1/enroll)")
    dev = await run_in_threadpool(_device_row, request.app.state.engine, creds.credentials)
    if dev is None:
        raise unauthorized("Authorization: unknown or revoked device token; enrol the device again")
    wait = request.app.state.device_limiter.hit(dev.id)
    if wait:
        raise too_many(wait, "device")
    request.app.state.metrics.last_seen.labels(dev.id).set(time.time())
    return dev


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
