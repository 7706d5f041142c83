"""The HTTP routes of the load balancing API, beside /metrics, /healthz and /readyz (I/O: aiohttp).

Every route but the operations ones and /openapi.json needs an API key (runtime/api_keys.py).
Errors are ``{"error": "<ErrorName>", "message": "..."}`` (core/errors.py); openapi.json, beside
this module, describes each route.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from contracts.fields import jsonable
from contracts.http_api import Query, paged
from runtime.api import add_operations, errors_and_metrics, read_object
from runtime.api_keys import authentication
from services.loadbalance.api.app import LoadbalanceApi
from services.loadbalance.api.core import history, signals
from services.loadbalance.api.core.errors import SiteNotFound
from services.loadbalance.api.core.registry import capacity
from services.loadbalance.api.plot import allocation_png
from services.loadbalance.core.topology import Site

log = logging.getLogger("loadbalance.api")
SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (services/loadbalance/api/openapi.json)."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return document


class Routes:
    """The handlers; each reads only what its route documents (unknown query names: 400)."""

    def __init__(self, api: LoadbalanceApi) -> None:
        self.api = api

    def _site(self, site_id: str) -> dict[str, Any]:
        document = self.api.sites.documents.get(site_id)
        if document is None:
            raise SiteNotFound(f"no site {site_id!r}")
        return {"site_id": site_id, "document": document}

    async def sites(self, request: web.Request) -> web.Response:
        page, counts = paged(Query(request.query), sorted(self.api.sites.documents))
        return web.json_response({"items": [self._site(s) for s in page], **counts})

    async def site(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        return web.json_response(self._site(request.match_info["site_id"]))

    async def put_site(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        site_id = request.match_info["site_id"]
        defined = self.api.sites.defined(site_id, await read_object(request))
        created = await self.api.put_site(defined)
        headers = {"Location": f"/sites/{site_id}"} if created else {}
        return web.json_response(
            self._site(site_id), status=201 if created else 200, headers=headers
        )

    async def delete_site(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        await self.api.delete_site(request.match_info["site_id"])
        return web.Response(status=204)

    async def post_capacity(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        change = capacity(
            request.match_info["site_id"], await read_object(request), datetime.now(UTC)
        )
        await self.api.change_capacity(change)
        return web.json_response(jsonable(dict(change.envelope().payload)), status=202)

    async def post_generation(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        site_id = request.match_info["site_id"]
        measured = signals.generation(site_id, await read_object(request), datetime.now(UTC))
        await self.api.signal(site_id, measured.envelope())
        return web.json_response(jsonable(dict(measured.envelope().payload)), status=202)

    async def put_forecast(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        site_id = request.match_info["site_id"]
        published = signals.forecast(site_id, await read_object(request))
        await self.api.signal(site_id, published.envelope())
        return web.json_response(jsonable(dict(published.envelope().payload)), status=202)

    async def put_needs(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        site_id, station_id = request.match_info["site_id"], request.match_info["station_id"]
        body = await read_object(request)
        reported = signals.needs(self.api.site(site_id), station_id, body, datetime.now(UTC))
        await self.api.session_needs(site_id, reported.event())
        return web.json_response(jsonable(dict(reported.event().payload)), status=202)

    async def allocation(self, request: web.Request) -> web.Response:
        """The site's live allocation: per station and EVSE its limit."""
        Query(request.query).done()
        site_id = request.match_info["site_id"]
        site = self._known(site_id)
        latest = self.api.history.latest(site_id)
        body = (
            history.unallocated(site_id, site) if latest is None else history.as_json(latest, site)
        )
        return web.json_response(jsonable(body))

    async def allocation_history(self, request: web.Request) -> web.Response:
        """The site's allocations in a range (default: as far back as the API reads), as JSON
        or as a PNG of capacity and allocated current."""
        query = Query(request.query)
        since, until = query.time("from"), query.time("to")
        form = query.choice("format", ("json", "png")) or "json"
        query.done()
        site_id = request.match_info["site_id"]
        site = self._known(site_id)
        rows = self.api.history.between(site_id, since, until)
        if form == "png":
            end = until or datetime.now(UTC)
            points = history.series(rows, site, until=end)
            title = f"site {site_id}: capacity and allocated current"
            png = await asyncio.to_thread(allocation_png, points, title=title)
            return web.Response(body=png, content_type="image/png")
        items = [history.as_json(a, site) for a in rows]
        return web.json_response(jsonable({"site_id": site_id, "items": items}))

    def _known(self, site_id: str) -> Site:
        return self.api.site(site_id)

    async def openapi(self, _: web.Request) -> web.Response:
        return web.json_response(openapi_document())


def build_app(api: LoadbalanceApi) -> web.Application:
    """The API's routes plus the shared /healthz, /readyz and /metrics handlers."""
    app = web.Application(
        middlewares=[errors_and_metrics(api.metrics, log), authentication(api.keys)]
    )
    add_operations(app, api.readiness, api.registry)
    r = Routes(api)
    app.router.add_get("/sites", r.sites, allow_head=False)
    app.router.add_get("/sites/{site_id}", r.site, allow_head=False)
    app.router.add_put("/sites/{site_id}", r.put_site)
    app.router.add_delete("/sites/{site_id}", r.delete_site)
    app.router.add_post("/sites/{site_id}/capacity", r.post_capacity)
    app.router.add_post("/sites/{site_id}/generation", r.post_generation)
    app.router.add_put("/sites/{site_id}/forecast", r.put_forecast)
    app.router.add_put("/sites/{site_id}/stations/{station_id}/needs", r.put_needs)
    app.router.add_get("/sites/{site_id}/allocation", r.allocation, allow_head=False)
    app.router.add_get(
        "/sites/{site_id}/allocation/history", r.allocation_history, allow_head=False
    )
    app.router.add_get("/openapi.json", r.openapi, allow_head=False)
    return app
