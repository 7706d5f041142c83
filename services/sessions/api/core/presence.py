"""Presence in the API's documents; the read model itself is contracts' PresenceView (pure)."""

from typing import Any

from contracts.fields import jsonable
from contracts.payloads.presence import Presence


def presence_json(entry: Presence, *, online: bool) -> dict[str, Any]:
    """The ``presence`` part of a station document (openapi.json: Presence)."""
    return {
        "online": online,
        "gateway": entry.gateway,
        "connection_id": entry.connection_id,
        "ocpp_version": None if entry.ocpp_version is None else str(entry.ocpp_version),
        "connected_at": jsonable(entry.connected_at),
        "disconnected_at": jsonable(entry.disconnected_at),
        "disconnect_reason": entry.reason,
    }
