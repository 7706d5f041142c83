"""The HTTP routes of the billing API, beside /metrics, /healthz and /readyz (I/O: aiohttp).

Every route but the operations ones and /openapi.json needs an API key (runtime/api_keys.py).
Errors are ``{"error": "<ErrorName>", "message": "..."}`` (core/errors.py); openapi.json,
beside this module, describes each route.
"""

import asyncio
import json
import logging
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from contracts.http_api import InvalidRequest, Query, paged
from contracts.payloads.billing import Scope, assignment_key
from runtime.api import add_operations, errors_and_metrics, read_object
from runtime.api_keys import authentication
from services.billing.api.app import BillingApi
from services.billing.api.core.cdrs import cdr_json
from services.billing.api.core.errors import AssignmentNotFound, CdrNotFound, TariffNotFound
from services.billing.api.core.reports import GROUPINGS, report, to_csv
from services.billing.api.core.requests import assignment, assignment_json, tariff_definition
from services.billing.core.ocpi_json import dumps
from services.billing.plot import daily_png

log = logging.getLogger("billing.api")
SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (services/billing/api/openapi.json)."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return document


def _json(data: Any, status: int = 200, **headers: str) -> web.Response:
    """JSON with exact decimals and RFC 3339 times (OCPI objects carry both)."""
    return web.Response(
        text=dumps(data), status=status, content_type="application/json", headers=headers
    )


class Routes:
    """The handlers; each reads only what its route documents (unknown query names: 400)."""

    def __init__(self, api: BillingApi) -> None:
        self.api = api

    async def tariffs(self, request: web.Request) -> web.Response:
        query = Query(request.query)
        ids = sorted(self.api.book.tariffs)
        page, counts = paged(query, ids)
        items = [json.loads(self.api.book.tariffs[i][1], parse_float=Decimal) for i in page]
        return _json({"items": items, **counts})

    async def tariff(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        tariff_id = request.match_info["tariff_id"]
        known = self.api.book.tariffs.get(tariff_id)
        if known is None:
            raise TariffNotFound(f"no tariff {tariff_id!r}")
        return web.Response(text=known[1], content_type="application/json")

    async def put_tariff(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        tariff_id = request.match_info["tariff_id"]
        body = await read_object(request, parse_float=Decimal)  # an OCPI price is exact
        defined = tariff_definition(tariff_id, body)
        created = await self.api.put_tariff(defined)
        headers = {"Location": f"/tariffs/{tariff_id}"} if created else {}
        return web.Response(
            text=defined.ocpi_json,
            status=201 if created else 200,
            content_type="application/json",
            headers=headers,
        )

    async def delete_tariff(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        await self.api.delete_tariff(request.match_info["tariff_id"])
        return web.Response(status=204)

    async def assignments(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        items = [assignment_json(a) for _, a in sorted(self.api.book.assignments.items())]
        return _json({"items": items})

    def _scope(self, request: web.Request) -> tuple[Scope, str | None]:
        for scope, name in SCOPE_PARAMETERS.items():
            target = request.match_info.get(name)
            if target is not None:
                return scope, target
        return Scope.DEFAULT, None

    async def assignment(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        scope, target = self._scope(request)
        found = self.api.book.assignments.get(assignment_key(scope, target))
        if found is None:
            raise AssignmentNotFound(
                f"no {scope} assignment" + (f" for {target!r}" if target else "")
            )
        return _json(assignment_json(found))

    async def put_assignment(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        scope, target = self._scope(request)
        assigned = assignment(scope, target, await read_object(request), self.api.book)
        created = await self.api.put_assignment(assigned)
        return _json(assignment_json(assigned), 201 if created else 200)

    async def delete_assignment(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        scope, target = self._scope(request)
        await self.api.delete_assignment(assignment_key(scope, target))
        return web.Response(status=204)

    async def cdrs(self, request: web.Request) -> web.Response:
        return _json(self.api.cdrs.listed(Query(request.query)))

    async def cdr(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        cdr_id = request.match_info["cdr_id"]
        found = self.api.cdrs.get(cdr_id)
        if found is None:
            raise CdrNotFound(f"no CDR {cdr_id!r} (none, or older than the API's window)")
        return _json(cdr_json(found))

    async def reports(self, request: web.Request) -> web.Response:
        query = Query(request.query)
        by = query.choice("by", GROUPINGS) or "day"
        since, until = query.time("from"), query.time("to")
        form = query.choice("format", ("json", "csv", "png")) or "json"
        query.done()
        if form == "png" and by != "day":
            raise InvalidRequest("format=png plots energy and revenue per day: use by=day")
        rows = report(self.api.cdrs, by=by, since=since, until=until)
        if form == "csv":
            return web.Response(text=to_csv(rows), content_type="text/csv")
        if form == "png":
            title = "chargebus: energy and revenue per day (the CDRs this API holds)"
            png = await asyncio.to_thread(daily_png, rows, title=title)
            return web.Response(body=png, content_type="image/png")
        return _json({"by": by, "items": [row.to_json() for row in rows]})

    async def openapi(self, _: web.Request) -> web.Response:
        return web.json_response(openapi_document())


# The path of each assignment scope, and the name of its target in it.
SCOPE_PARAMETERS = {
    Scope.STATION: "station_id",
    Scope.SITE: "site_id",
    Scope.TOKEN_GROUP: "group_id",
}
ASSIGNMENT_PATHS = (
    "/tariff-assignments/default",
    "/tariff-assignments/stations/{station_id}",
    "/tariff-assignments/sites/{site_id}",
    "/tariff-assignments/token-groups/{group_id}",
)


def build_app(api: BillingApi) -> web.Application:
    """The API's routes plus the shared /healthz, /readyz and /metrics handlers."""
    app = web.Application(
        middlewares=[errors_and_metrics(api.metrics, log), authentication(api.keys)]
    )
    add_operations(app, api.readiness, api.registry)
    r = Routes(api)
    app.router.add_get("/tariffs", r.tariffs, allow_head=False)
    app.router.add_get("/tariffs/{tariff_id}", r.tariff, allow_head=False)
    app.router.add_put("/tariffs/{tariff_id}", r.put_tariff)
    app.router.add_delete("/tariffs/{tariff_id}", r.delete_tariff)
    app.router.add_get("/tariff-assignments", r.assignments, allow_head=False)
    for path in ASSIGNMENT_PATHS:
        app.router.add_get(path, r.assignment, allow_head=False)
        app.router.add_put(path, r.put_assignment)
        app.router.add_delete(path, r.delete_assignment)
    app.router.add_get("/cdrs", r.cdrs, allow_head=False)
    app.router.add_get("/cdrs/{cdr_id}", r.cdr, allow_head=False)
    app.router.add_get("/reports", r.reports, allow_head=False)
    app.router.add_get("/openapi.json", r.openapi, allow_head=False)
    return app
