"""The HTTP routes of the sessions API, beside /metrics, /healthz and /readyz (I/O: aiohttp).

Every route but the operations ones and /openapi.json needs an API key (runtime/api_keys.py).
Every answer is JSON; every error is ``{"error": "<ErrorName>", "message": "..."}`` with the
status the error class names (core/errors.py). openapi.json, beside this module, describes
each route.
"""

import json
import logging
import re
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from aiohttp import web

from contracts.headers import Header
from contracts.http_api import Query
from contracts.payloads.sessions import session_id
from contracts.payloads.station_reports import ReportKind
from contracts.trace import context
from ocppj.commands.arguments import InvalidCommand
from runtime.api import add_operations, errors_and_metrics, read_object
from runtime.api_keys import authentication
from services.sessions.api.app import SessionsApi
from services.sessions.api.core.device_models import report_json
from services.sessions.api.core.errors import (
    ConsoleFileNotFound,
    InvalidRequest,
    OutcomeNotFound,
    ReportNotFound,
    SessionNotFound,
    StationNotFound,
    TokenNotFound,
)
from services.sessions.api.core.outcomes import http_status, result_json
from services.sessions.api.core.queries import (
    known_station,
    list_sessions,
    list_stations,
    list_tokens,
    station_document,
)
from services.sessions.api.core.tokens import check_id_token, parse_definition, token_json
from services.sessions.api.settings import MAX_TIMEOUT_S

log = logging.getLogger("sessions.api")

SPEC_PATH = Path(__file__).resolve().parent / "openapi.json"
CONSOLE_DIR = Path(__file__).resolve().parent / "console"
# The console loads only its own files and talks only to this API; no page may frame it.
CONSOLE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
CONSOLE_FILES = {
    "index.html": "text/html",
    "console.js": "text/javascript",
    "console.css": "text/css",
}
_COMMAND_ID = re.compile(r"[\x21-\x7e]{1,128}")


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API (services/sessions/api/openapi.json)."""
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text("utf-8"))
    return document


def _command_controls(body: dict[str, Any], default_timeout_s: float) -> tuple[str, float]:
    """Take ``command_id`` and ``timeout_s`` out of a command body.

    Raises:
        InvalidRequest: either is malformed.
    """
    command_id = body.pop("command_id", None)
    if command_id is None:
        command_id = uuid.uuid4().hex
    elif not isinstance(command_id, str) or not _COMMAND_ID.fullmatch(command_id):
        raise InvalidRequest(
            "command_id must be 1-128 printable ASCII characters without spaces, "
            f"got {command_id!r}"
        )
    timeout_s = body.pop("timeout_s", None)
    if timeout_s is None:
        timeout_s = default_timeout_s
    elif (
        isinstance(timeout_s, bool)
        or not isinstance(timeout_s, int | float)
        or not 0 < timeout_s <= MAX_TIMEOUT_S
    ):
        raise InvalidRequest(
            f"timeout_s must be a number of seconds above 0 and at most {MAX_TIMEOUT_S:g}, "
            f"got {timeout_s!r}"
        )
    return command_id, float(timeout_s)


class Routes:
    """The handlers; each reads only what its route documents (unknown query names: 400)."""

    def __init__(self, api: SessionsApi) -> None:
        self.api = api

    async def stations(self, request: web.Request) -> web.Response:
        query = Query(request.query)
        return web.json_response(list_stations(query, self.api.presence, self.api.stations))

    async def station(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        station_id = request.match_info["station_id"]
        document = station_document(station_id, self.api.presence, self.api.stations)
        if document is None:
            raise StationNotFound(f"no station {station_id!r}")
        return web.json_response(document)

    def _known(self, station_id: str) -> str:
        if not known_station(station_id, self.api.presence, self.api.stations):
            raise StationNotFound(f"no station {station_id!r}")
        return station_id

    async def device_model(self, request: web.Request) -> web.Response:
        query = Query(request.query)
        component, variable = query.string("component"), query.string("variable")
        query.done()
        station_id = self._known(request.match_info["station_id"])
        models = self.api.stations.device_models
        return web.json_response(
            models.device_model(station_id, component=component, variable=variable)
        )

    async def report(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        station_id = self._known(request.match_info["station_id"])
        kind = request.match_info["kind"]
        kinds = [k for k in ReportKind if k is not ReportKind.CUSTOMER_INFORMATION]
        if kind not in kinds:
            raise InvalidRequest(
                f"no report kind {kind!r}; one of {', '.join(str(k) for k in kinds)}"
            )
        report = self.api.stations.device_models.report(station_id, ReportKind(kind))
        if report is None:
            raise ReportNotFound(f"station {station_id!r} sent no {kind} report that is kept")
        return web.json_response(report_json(report))

    async def station_session(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        station_id = request.match_info["station_id"]
        transaction_id = request.match_info["transaction_id"]
        session = self.api.sessions.get(session_id(station_id, transaction_id))
        if session is None:
            raise SessionNotFound(
                f"no open or recent session {transaction_id!r} at station {station_id!r}"
            )
        return web.json_response(session.to_json())

    async def command(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        body = await read_object(request)
        command_id, timeout_s = _command_controls(body, self.api.settings.command_timeout_s)
        result = await self.api.router.run_command(
            request.match_info["station_id"],
            request.match_info["command"],
            body,
            command_id=command_id,
            timeout_s=timeout_s,
            trace=context(
                request.headers.get(Header.TRACEPARENT), request.headers.get(Header.TRACESTATE)
            ),
        )
        return web.json_response(result_json(result), status=http_status(result))

    async def command_outcome(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        command_id = request.match_info["command_id"]
        result = self.api.router.outcome(command_id)
        if result is None:
            raise OutcomeNotFound(
                f"no outcome for command {command_id!r} (none yet, or older than the command "
                "ledger's 7 days)"
            )
        return web.json_response(result_json(result))

    async def sessions(self, request: web.Request) -> web.Response:
        return web.json_response(list_sessions(Query(request.query), self.api.sessions))

    async def alerts(self, request: web.Request) -> web.Response:
        return web.json_response(self.api.alerts.query(Query(request.query)))

    async def tokens(self, request: web.Request) -> web.Response:
        return web.json_response(list_tokens(Query(request.query), self.api.tokens))

    async def token(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        id_token = request.match_info["id_token"]
        token = self.api.tokens.get(id_token)
        if token is None:
            raise TokenNotFound(f"no token {id_token!r} in the token store")
        return web.json_response(token_json(token))

    async def put_token(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        id_token = request.match_info["id_token"]
        token = parse_definition(id_token, await read_object(request))
        created = await self.api.put_token(token)
        headers = {"Location": f"/tokens/{id_token}"} if created else {}
        return web.json_response(token_json(token), status=201 if created else 200, headers=headers)

    async def delete_token(self, request: web.Request) -> web.Response:
        Query(request.query).done()
        await self.api.delete_token(check_id_token(request.match_info["id_token"]))
        return web.Response(status=204)

    async def events(self, request: web.Request) -> web.StreamResponse:
        Query(request.query).done()
        return await self.api.live.stream(request)

    async def station_events(self, request: web.Request) -> web.Response:
        query = Query(request.query)
        limit = query.integer("limit", default=50, minimum=1, maximum=500)
        query.done()
        station_id = self._known(request.match_info["station_id"])
        return web.json_response({"items": self.api.recent.of(station_id, limit)})

    async def console(self, request: web.Request) -> web.Response:
        name = request.match_info.get("name", "index.html")
        kind = CONSOLE_FILES.get(name)
        if kind is None:
            raise ConsoleFileNotFound(f"no console file {name!r}; /console is the page")
        body = (CONSOLE_DIR / name).read_bytes()
        return web.Response(body=body, content_type=kind, headers=CONSOLE_HEADERS)

    async def openapi(self, _: web.Request) -> web.Response:
        return web.json_response(openapi_document())


def build_app(api: SessionsApi) -> web.Application:
    """The API's routes plus the shared /healthz, /readyz and /metrics handlers."""
    errors = errors_and_metrics(api.metrics, log, {InvalidCommand: (400, "InvalidCommand")})
    app = web.Application(middlewares=[errors, authentication(api.keys)])
    add_operations(app, api.readiness, api.registry)
    r = Routes(api)
    app.router.add_get("/stations", r.stations, allow_head=False)
    app.router.add_get("/stations/{station_id}", r.station, allow_head=False)
    app.router.add_get("/stations/{station_id}/device-model", r.device_model, allow_head=False)
    app.router.add_get("/stations/{station_id}/reports/{kind}", r.report, allow_head=False)
    app.router.add_post("/stations/{station_id}/commands/{command}", r.command)
    app.router.add_get(
        "/stations/{station_id}/sessions/{transaction_id}", r.station_session, allow_head=False
    )
    app.router.add_get("/commands/{command_id}", r.command_outcome, allow_head=False)
    app.router.add_get("/sessions", r.sessions, allow_head=False)
    app.router.add_get("/alerts", r.alerts, allow_head=False)
    app.router.add_get("/tokens", r.tokens, allow_head=False)
    app.router.add_get("/tokens/{id_token}", r.token, allow_head=False)
    app.router.add_put("/tokens/{id_token}", r.put_token)
    app.router.add_delete("/tokens/{id_token}", r.delete_token)
    app.router.add_get("/openapi.json", r.openapi, allow_head=False)
    app.router.add_get("/events", r.events, allow_head=False)
    app.router.add_get("/stations/{station_id}/events", r.station_events, allow_head=False)
    app.router.add_get("/console", r.console, allow_head=False)
    app.router.add_get("/console/{name}", r.console, allow_head=False)
    return app
