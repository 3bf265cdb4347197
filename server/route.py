"""The route class of every ``/api/v1`` router: one place for what every operation shares.

- A JSON body is parsed by :class:`server.body.JsonRequest` (400 when nested too deeply, 422 naming the
  body when it is not UTF-8 or not JSON, 422 naming the field that holds a NUL character), never by
  FastAPI's own ``request.json()``, whose catch-all answered 400 "There was an error parsing the body".
- The statuses any operation may answer because of the app's middleware (``server.app``) are in its
  OpenAPI entry: 429 (per-address rate limit) everywhere, and 411 / 413 (no Content-Length, body too
  large) on POST, PUT and PATCH; 400 on every operation that reads a JSON body. A route's own
  description of a status wins.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from .body import JsonRequest
from .jsontext import MAX_DEPTH

SHARED = {429: {"description": "rate limited (too many requests from this address); see Retry-After"}}
WRITES = {411: {"description": "Content-Length is required (no chunked uploads)"},
          413: {"description": "body larger than 256 KiB"}}
BODY = {400: {"description": f"unreadable body: JSON nested more than {MAX_DEPTH} levels deep"}}


class ApiRoute(APIRoute):
    """``APIRouter(route_class=ApiRoute)``: JSON bodies read by :class:`JsonRequest`; shared statuses
    documented."""

    def __init__(self, path: str, endpoint, **kwargs) -> None:
        super().__init__(path, endpoint, **kwargs)
        shared = dict(SHARED)
        if self.methods & {"POST", "PUT", "PATCH"}:
            shared |= WRITES
        if self.body_field is not None or "requestBody" in (self.openapi_extra or {}):
            shared |= BODY
        self.responses = {**shared, **self.responses}

    def get_route_handler(self):
        inner = super().get_route_handler()

        async def handler(request: Request):
            return await inner(JsonRequest(request.scope, request.receive))

        return handler


__all__ = ["ApiRoute"]
