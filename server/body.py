"""Reading a request body under a size limit that also applies after gzip decompression.

The body is streamed; a gzip body is decompressed with ``zlib`` in bounded steps
(``decompressobj.decompress(chunk, max_length)``), so a gzip bomb stops at the limit having used at
most about the limit in memory, and answers 413.
"""

from __future__ import annotations

import zlib

from fastapi import HTTPException, Request


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
