"""Answers to the read routes: query strings, filters, paging, documents from the views (pure)."""

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from contracts.payloads.presence import PresenceView
from ocppj.timestamps import parse_zoned
from services.sessions.api.core.errors import InvalidRequest
from services.sessions.api.core.presence import presence_json
from services.sessions.api.core.sessions import SessionsView
from services.sessions.api.core.stations import StationsView
from services.sessions.api.core.tokens import TOKEN_STATUSES, TokensView, token_json

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_T = TypeVar("_T")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Query:
    """The query string of one request, read by name and type; unknown names are errors."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = values
        self._read: set[str] = set()

    def _get(self, name: str) -> str | None:
        self._read.add(name)
        return self._values.get(name)

    def string(self, name: str) -> str | None:
        value = self._get(name)
        if value == "":
            raise InvalidRequest(f"query parameter {name} must not be empty")
        return value

    def integer(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self._get(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = minimum - 1
        if not minimum <= number <= maximum:
            raise InvalidRequest(
                f"query parameter {name} must be an integer from {minimum} to {maximum}, "
                f"got {value!r}"
            )
        return number

    def boolean(self, name: str) -> bool | None:
        value = self._get(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            raise InvalidRequest(f"query parameter {name} must be true or false, got {value!r}")
        return value == "true"

    def choice(self, name: str, choices: Collection[str]) -> str | None:
        value = self._get(name)
        if value is not None and value not in choices:
            options = ", ".join(sorted(choices))
            raise InvalidRequest(f"query parameter {name} must be one of {options}, got {value!r}")
        return value

    def time(self, name: str) -> datetime | None:
        value = self._get(name)
        if value is None:
            return None
        parsed = parse_zoned(value)
        if parsed is None:
            raise InvalidRequest(
                f"query parameter {name} must be an RFC 3339 date-time with a zone "
                f"(URL-encode '+' as %2B), got {value!r}"
            )
        return parsed

    def done(self) -> None:
        """Raises: InvalidRequest: if the query has a parameter nobody read."""
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            expected = ", ".join(sorted(self._read))
            raise InvalidRequest(
                f"unknown query parameter {', '.join(unknown)}; expected {expected}"
            )


def _paged(query: Query, items: Sequence[_T]) -> tuple[list[_T], dict[str, int]]:
    limit = query.integer("limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = query.integer("offset", default=0, minimum=0, maximum=2**31 - 1)
    query.done()
    return list(items[offset : offset + limit]), {
        "total": len(items),
        "limit": limit,
        "offset": offset,
    }


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
        **(record.to_json() if record is not None else {"boot": None, "connectors": []}),
    }


def list_stations(query: Query, presence: PresenceView, stations: StationsView) -> dict[str, Any]:
    online = query.boolean("online")
    ids = sorted(set(presence.station_ids()) | set(stations.station_ids()))
    if online is not None:
        ids = [i for i in ids if presence.online(i) == online]
    page, counts = _paged(query, ids)
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
    page, counts = _paged(query, matching)
    return {"items": [s.to_json() for s in page], **counts}


def list_tokens(query: Query, tokens: TokensView) -> dict[str, Any]:
    status = query.choice("status", TOKEN_STATUSES)
    group_id = query.string("group_id")
    matching = [
        t
        for t in tokens.all()
        if (status is None or t.status == status) and (group_id is None or t.group_id == group_id)
    ]
    page, counts = _paged(query, matching)
    return {"items": [token_json(t) for t in page], **counts}
