"""Reading a request body under a size limit that also applies after gzip decompression.

The body is streamed; a gzip body is decompressed with ``zlib`` in bounded steps
(``decompressobj.decompress(chunk, max_length)``), so a gzip bomb stops at the limit having used at
most about the limit in memory, and answers 413.

JSON bodies are parsed by :func:`loads` (``server.jsontext.parse_json`` with HTTP statuses): 400 when
nested too deeply, 422 when not UTF-8 or not JSON. :class:`JsonRequest` makes FastAPI parse the bodies
of its models the same way, and also refuses a NUL character naming the field (422).
"""

from __future__ import annotations

import zlib
from typing import Any

from fastapi import HTTPException, Request

from hymy.errors import JsonError

from .jsontext import field_name, nul_path, parse_json


def field_error(loc: list, msg: str, kind: str = "value_error") -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors (``{"detail": [{"loc", "msg", "type"}]}``)."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": kind}])


def loads(raw: bytes) -> Any:
    """The JSON value of a request body: 400 when nested too deeply, 422 (``json_invalid``) when not
    UTF-8 or not JSON; both name the body."""
    try:
        return parse_json(raw, "body")
    except JsonError as exc:
        if exc.too_deep:
            raise HTTPException(400, str(exc)) from None
        raise field_error(["body"], str(exc), "json_invalid") from None


def refuse_nul(value: Any) -> None:
    """422 naming the field when a NUL character hides anywhere in ``value`` (a parsed body): no
    database stores it as text."""
    path = nul_path(value)
    if path is not None:
        raise field_error(["body", *path], f"{field_name(path)}: must not contain a NUL character", "string_nul")


class JsonRequest(Request):
    """A request whose ``json()`` is :func:`loads` plus :func:`refuse_nul`; FastAPI calls it for the
    JSON body of an operation (see ``server.route.ApiRoute``)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            value = loads(await self.body())
            refuse_nul(value)
            self._json = value
        return self._json


class TooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"body: larger than {limit} bytes (after decompression); send fewer events")


async def read_limited(request: Request, limit: int) -> bytes:
    """The request body, decompressed if ``Content-Encoding: gzip``; 413 beyond ``limit`` bytes, 400 on bad gzip."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise HTTPException(415, f"Content-Encoding: {encoding!r} is not supported; use gzip or none")
    declared = request.headers.get("content-length")
    if encoding != "gzip" and declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(limit)
    out = bytearray()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    raw = 0
    async for chunk in request.stream():
        raw += len(chunk)
        if d is None:
            out += chunk
            if len(out) > limit:
                raise TooLarge(limit)
            continue
        if raw > limit:  # compressed bytes alone already past the limit
            raise TooLarge(limit)
        data = chunk
        while data:
            try:
                piece = d.decompress(data, limit + 1 - len(out))
            except zlib.error:
                raise HTTPException(400, "body: not valid gzip data") from None
            out += piece
            if len(out) > limit:
                raise TooLarge(limit)
            data = d.unconsumed_tail
            if d.eof:
                break
    if d is not None:
        try:
            out += d.flush(limit + 1 - len(out))
        except zlib.error:
            raise HTTPException(400, "body: not valid gzip data") from None
        if len(out) > limit:
            raise TooLarge(limit)
        if not d.eof:
            raise HTTPException(400, "body: gzip data is truncated")
    return bytes(out)
