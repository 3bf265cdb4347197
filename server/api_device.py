"""The device API: enrol, send a batch of events, heartbeat, fetch the store's config."""

from __future__ import annotations

import json
import logging
import re
import time

from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hymy.errors import EnrolmentError
from hymy.protocol import BatchResult, EnrollRequest, EnrollResponse, Heartbeat, HeartbeatResult
from hymy.timestamps import utcnow

from . import admin, storeconfig
from .body import field_error, loads, read_limited
from .deps import Device, admit, current_device, device_of, needs_token, too_many
from .heartbeat import record_heartbeats
from .ingest import ingest_many
from .jsontext import MAX_DEPTH
from .route import ApiRoute

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["device"], route_class=ApiRoute)

ERRORS = {401: {"description": "no, unknown or revoked device token"},
          429: {"description": "rate limited (this device or this address); see Retry-After"}}


@router.post("/enroll", response_model=EnrollResponse, responses={
    404: {"description": "no such code"}, 409: {"description": "code already used"},
    410: {"description": "code expired, or its device revoked (for good)"}, 429: ERRORS[429]})
async def enroll(body: EnrollRequest, request: Request) -> EnrollResponse:
    """Use a one-time enrolment code: answers the device id, its bearer token (shown once) and config."""
    ip = request.client.host if request.client else "?"
    wait = await run_in_threadpool(request.app.state.enroll_limiter.hit, ip)  # exact: in the database
    if wait:
        raise too_many(wait, "address")
    try:
        device_id, token, cfg = await run_in_threadpool(
            admin.enroll, request.app.state.engine, body.code, body.device_name, body.app_version)
    except EnrolmentError as exc:  # each kind carries its status (hymy.errors)
        raise HTTPException(exc.http_status, str(exc)) from None
    return EnrollResponse(device_id=device_id, token=token, config=cfg)


BATCH_BODY = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Batch"}}}}


@router.post("/responses", response_model=BatchResult, openapi_extra={"requestBody": BATCH_BODY}, responses={
    **ERRORS, 400: {"description": f"unreadable body: bad gzip, or JSON nested more than {MAX_DEPTH} levels deep"},
    413: {"description": "more than 500 events, or body over 256 KiB after decompression"},
    422: {"description": "the body is not JSON, or not a batch"}})
async def responses(request: Request, dev: Device = Depends(current_device)) -> Response:
    """Store a batch of events (optionally ``Content-Encoding: gzip``); a result per event id, in order."""
    # served by server.fastpath (this operation documents it and answers only when that path declines)
    return Response(await take_batch(request, dev), media_type="application/json")


async def take_batch(request: Request, dev: Device | None = None, token: str | None = None) -> bytes:
    """Read, check and store the batch of ``request`` for device ``dev`` (or for bearer ``token``, when
    ``dev`` is None); the answer's JSON body. Raises ``HTTPException``: 401 / 429 for the token (before
    anything about the body), 400, 413, 415, 422 for a body that is not a batch.

    With a ``token`` on PostgreSQL, the token is checked on the database thread that then stores the
    batch (``deps.admit``, then ``ingest_many``): one hand-off to a database thread and back instead of
    two (the body is read and parsed first; a body that is not a batch still gets the token's 401 / 429
    first). On SQLite the token is read inline first (a local read is cheaper than any hand-off)."""
    state = request.app.state
    settings = state.settings
    if dev is None and state.offload.inline_reads:
        dev = await device_of(state, token)
    elif dev is None:
        needs_token(token)
    try:
        raw = await read_limited(request, settings.max_body_bytes)
        events = _events(loads(raw), settings.max_batch_events)
    except HTTPException:
        if dev is None:
            await device_of(state, token)  # the token's answer comes first
        raise
    if dev is None:
        dev, outcome, took = await state.offload.write(_admit_and_ingest, state, token, events, b"\\u0000" in raw)
    else:
        outcome, took = await state.offload.write_grouped(_ingest_group, (state.engine, dev, events, b"\\u0000" in raw),
                                                          on_loop=True)
    state.metrics.batch(took, len(events), outcome.accepted, outcome.duplicate, outcome.rejected)
    if outcome.rejected:
        state.metrics.rejected.labels(dev.id).inc(outcome.rejected)
    if outcome.stores_changed:
        state.after_ingest.submit(outcome.stores_changed)
    # the results are already checked values (ids, statuses, reasons): serialised once here instead of
    # validated into 500 models and again by FastAPI (BatchResult stays the documented response_model)
    return json.dumps({"results": outcome.results}, separators=(",", ":")).encode()


def _events(data, max_events: int) -> list:
    """The events of a parsed batch body; ``HTTPException`` (422, 413) when it is not a batch."""
    if not isinstance(data, dict):
        raise field_error(["body"], "must be an object like {\"events\": [...]}", "model_type")
    extra = sorted(set(data) - {"events"})
    if extra:
        raise field_error(["body", extra[0]], "extra field not permitted; a batch has only `events`",
                          "extra_forbidden")
    events = data.get("events")
    if not isinstance(events, list):
        raise field_error(["body", "events"], "must be a list of events", "list_type")
    if len(events) > max_events:
        raise HTTPException(413, f"events: {len(events)} is more than {max_events} in one batch")
    return events


def _admit_and_ingest(state, token: str, events: list, check_nul: bool) -> tuple:
    """On a database thread: ``(device, Outcome, seconds)`` of the batch of bearer ``token``'s device, or the
    token's 401 / 429 raised with nothing stored."""
    dev = admit(state, token)
    started = time.perf_counter()
    outcome = ingest_many(state.engine, [(dev.id, dev.store_id, dev.timezone, events, check_nul)])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return dev, outcome, time.perf_counter() - started


def _ingest_group(items: list[tuple]) -> list:
    """The writer's runner (``server.offload``) for the batches queued together, each ``(engine, dev, events,
    check_nul)``: ``(Outcome, seconds)`` or the exception per batch, stored in one transaction
    (``ingest_many``); the seconds are the group's shared out evenly."""
    started = time.perf_counter()
    outcomes = ingest_many(items[0][0], [(dev.id, dev.store_id, dev.timezone, events, nul)
                                         for _, dev, events, nul in items])
    took = (time.perf_counter() - started) / len(items)
    return [o if isinstance(o, Exception) else (o, took) for o in outcomes]


@router.post("/heartbeat", response_model=HeartbeatResult, responses=ERRORS)
async def heartbeat(body: Heartbeat, request: Request, dev: Device = Depends(current_device)) -> HeartbeatResult:
    """Record the device's fleet state; correct this boot's unsynced press times when its clock is synced."""
    return await beat(request.app.state, dev, body)


async def beat(state, dev: Device | None, hb: Heartbeat, token: str | None = None) -> HeartbeatResult:
    """Record heartbeat ``hb`` of ``dev`` (``state``: the app's ``app.state``); the answer. With ``dev`` None,
    of bearer ``token``'s device, checked on the database thread that then records it (PostgreSQL: one
    hand-off instead of two, as ``take_batch``); its 401 / 429 raised with nothing recorded."""
    if dev is None:
        n = await state.offload.write(_admit_and_beat, state, token, hb)
    else:
        n = await state.offload.write_grouped(_beat_group, (state.engine, dev, hb))
    state.metrics.heartbeats.inc()
    state.metrics.corrected.inc(n)
    return HeartbeatResult(server_time=utcnow(), corrected=n)


def _beat_group(items: list[tuple]) -> list:
    """The writer's runner (``server.offload``) for the heartbeats queued together, each ``(engine, dev, hb)``:
    the presses corrected, or the exception, per heartbeat (``record_heartbeats``)."""
    return record_heartbeats(items[0][0], [(dev.id, dev.store_id, dev.timezone, hb, dev.store_recoveries)
                                           for _, dev, hb in items])


def _admit_and_beat(state, token: str, hb: Heartbeat) -> int:
    """On a database thread: the presses corrected by heartbeat ``hb`` of bearer ``token``'s device, or the
    token's 401 / 429 raised with nothing recorded."""
    (n,) = _beat_group([(state.engine, admit(state, token), hb)])
    if isinstance(n, Exception):
        raise n
    return n


#: One member of an If-None-Match list: ``*`` or an entity tag, optionally weak (RFC 9110 section 8.8.3).
_MEMBER = re.compile(r'[ \t]*(?:(\*)|(?:W/)?("[\x21\x23-\x7e\x80-\xff]*"))?[ \t]*(?:,|$)')


def none_match(header: str | None, etag: str) -> bool:
    """Does ``If-None-Match: header`` match the current ``etag`` (RFC 9110 section 13.1.2)? True for ``*``
    (a representation exists) and for a list holding ``etag`` or its weak form ``W/etag`` (the weak
    comparison). An empty or malformed header matches nothing, so the full answer goes out."""
    if not header:
        return False
    at, tags = 0, set()
    while at < len(header):
        m = _MEMBER.match(header, at)
        if m is None or m.end() == at:  # not an entity tag (empty list members are allowed)
            return False
        if m.group(1):
            return True
        tags.add(m.group(2))
        at = m.end()
    return etag in tags


@router.get("/config", responses={**ERRORS, 200: {"model": None, "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/StoreConfig"}}}, "description": "the store's config"},
    304: {"description": "not modified: If-None-Match is * or lists the current ETag (weak forms match)"}})
async def config(request: Request, dev: Device = Depends(current_device),
                 if_none_match: str | None = Header(None)) -> Response:
    """The store's StoreConfig with a strong ETag; 304 when ``If-None-Match`` is ``*`` or lists that ETag
    (weak ``W/"..."`` forms match too)."""
    status, body, headers = await config_answer(request.app.state, dev, if_none_match)
    return Response(body, status_code=status, headers=headers, media_type=None if status == 304 else "application/json")


async def config_answer(state, dev: Device, if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
    """``(status, body, headers)`` of a config pull: 200 with the store's config as JSON and its ETag, or
    304 (no body) when ``if_none_match`` matches that ETag."""
    got = await state.offload.read(storeconfig.answer, state.engine, dev.store_id)
    if got is None:  # the store went away after the token was checked
        raise admin.NotFound(f"store {dev.store_id!r} does not exist")
    return config_reply(got, if_none_match)


def config_reply(got: tuple[str, bytes], if_none_match: str | None) -> tuple[int, bytes, dict[str, str]]:
    """:func:`config_answer` of the store's ``(ETag, JSON body)``."""
    etag, body = got
    if none_match(if_none_match, etag):
        return 304, b"", {"ETag": etag}
    return 200, body, {"ETag": etag, "Cache-Control": "no-cache"}
