"""The dashboard's routers: each page module makes its own with :func:`page_router`, and errors on its
pages answer as a readable page in the user's language instead of JSON."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute

from .deps import context
from .web import render


class HtmlErrors(APIRoute):
    """Dashboard routes answer errors with a readable page (in the user's language), not JSON,
    without touching the app-wide handlers the JSON API relies on."""

    def get_route_handler(self):
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except HTTPException as exc:
                if request.url.path.endswith(".json"):
                    raise
                return html_error(request, exc.status_code, str(exc.detail))

        return handler


def page_router() -> APIRouter:
    """A router for one page module's routes (kept out of the OpenAPI document)."""
    return APIRouter(include_in_schema=False, route_class=HtmlErrors)


def html_error(request: Request, status: int, detail: str) -> Response:
    """An HTML error page for dashboard paths (the JSON API keeps its JSON errors)."""
    ctx = context(request)
    _ = ctx._
    heading = {403: _("Not allowed"), 404: _("Not found"), 422: _("Check the address")}.get(status, _("Error"))
    message = {403: _("You do not have access to this page, or the form had expired. Reload the page and try again."),
               404: _("There is nothing here, or it is not one of your stores.")}.get(status, detail)
    return render(ctx, "error.html", status_code=status, heading=heading, message=message, title=heading)
