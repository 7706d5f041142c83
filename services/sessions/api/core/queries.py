"""Answers to the read routes: query strings, filters, paging, documents from the views (pure)."""

from datetime import UTC, datetime
from typing import Any

from contracts.http_api import Query, paged
from contracts.payloads.presence import PresenceView
from services.sessions.api.core.presence import presence_json
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import TOKEN_STATUSES, TokensView, token_json

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_RECORD: dict[str, Any] = {"boot": None, "connectors": [], "firmware": None, "log": None}


def known_station(station_id: str, presence: PresenceView, stations: StationsView) -> bool:
    return station_id in presence or station_id in stations


def station_document(
    station_id: str, presence: PresenceView, stations: StationsView
) -> dict[str, Any] | None:
    """One station: presence (authoritative for ``online``) merged with stations.v1."""
    entry, record = presence.get(station_id), stations.get(station_id)
    if entry is None and record is None:
        return None
    version = entry.ocpp_version if entry is not None else None
    if version is None and record is not None:
        version = record.ocpp_version
    return {
        "station_id": station_id,
        "online": presence.online(station_id),
        "ocpp_version": None if version is None else str(version),
        "presence": None
        if entry is None
        else presence_json(entry, online=presence.online(station_id)),
        **(record.to_json() if record is not None else _NO_RECORD),
    }


def list_stations(query: Query, presence: PresenceView, stations: StationsView) -> dict[str, Any]:
    online = query.boolean("online")
    ids = sorted(set(presence.station_ids()) | set(stations.station_ids()))
    if online is not None:
        ids = [i for i in ids if presence.online(i) == online]
    page, counts = paged(query, ids)
    items = [station_document(i, presence, stations) for i in page]
    return {"items": items, **counts}


def list_sessions(query: Query, sessions: SessionsView) -> dict[str, Any]:
    station_id = query.string("station_id")
    id_token = query.string("id_token")
    status = query.choice("status", ("open", "ended"))
    since, until = query.time("from"), query.time("to")
    matching = [
        s
        for s in sessions
        if (station_id is None or s.station_id == station_id)
        and (id_token is None or s.id_token == id_token)
        and (status is None or (status == "open") == s.open)
        and (since is None or (s.sort_time is not None and s.sort_time >= since))
        and (until is None or (s.sort_time is not None and s.sort_time < until))
    ]
    matching.sort(key=lambda s: (s.sort_time or _EPOCH, s.session_id), reverse=True)
    page, counts = paged(query, matching)
    return {"items": [s.to_json() for s in page], **counts}


def list_tokens(query: Query, tokens: TokensView) -> dict[str, Any]:
    status = query.choice("status", TOKEN_STATUSES)
    group_id = query.string("group_id")
    matching = [
        t
        for t in tokens.all()
        if (status is None or t.status == status) and (group_id is None or t.group_id == group_id)
    ]
    page, counts = paged(query, matching)
    return {"items": [token_json(t) for t in page], **counts}
