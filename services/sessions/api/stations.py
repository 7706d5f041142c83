"""The stations read model: boot data and connector status from stations.v1 (pure)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import jsonable, moment, text, whole
from ocppj.versions import OcppVersion, version_named

_BOOT_FIELDS = ("vendor", "model", "serial_number", "firmware_version", "boot_status")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorStatus:
    """The last StationStatusChanged of one (evse_id, connector_id)."""

    evse_id: int | None
    connector_id: int | None
    status: str
    error_code: str | None
    at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "evse_id": self.evse_id,
            "connector_id": self.connector_id,
            "status": self.status,
            "error_code": self.error_code,
            "at": jsonable(self.at),
        }


@dataclass(slots=True, kw_only=True)
class StationRecord:
    """What stations.v1 says about one station."""

    station_id: str
    boot: dict[str, str | None] = field(default_factory=dict)
    ocpp_version: OcppVersion | None = None
    booted_at: datetime | None = None
    connectors: dict[tuple[int, int], ConnectorStatus] = field(default_factory=dict)
    online: bool | None = None  # StationOnline / StationOffline, as the sessions service saw it
    online_changed_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "boot": None
            if not self.boot
            else {
                **{name: self.boot.get(name) for name in _BOOT_FIELDS},
                "at": jsonable(self.booted_at),
            },
            "connectors": [status.to_json() for _, status in sorted(self.connectors.items())],
        }


class StationsView:
    """Per station, the newest facts of stations.v1; ``apply`` keeps it current."""

    def __init__(self) -> None:
        self._records: dict[str, StationRecord] = {}

    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._records

    def get(self, station_id: str) -> StationRecord | None:
        return self._records.get(station_id)

    def station_ids(self) -> list[str]:
        return list(self._records)

    def apply(self, envelope: Envelope) -> bool:
        """Apply one stations.v1 record; returns whether the view changed."""
        p = envelope.payload
        station_id = text(p, "station_id") or envelope.key
        kind = envelope.event_type
        if kind == EventType.STATION_BOOTED:
            record = self._record(station_id)
            record.boot = {name: text(p, name) for name in _BOOT_FIELDS}
            record.ocpp_version = version_named(p.get("ocpp_version")) or record.ocpp_version
            record.booted_at = envelope.occurred_at
            return True
        if kind == EventType.STATION_STATUS_CHANGED:
            status = text(p, "status")
            if status is None:
                return False
            evse_id, connector_id = whole(p, "evse_id"), whole(p, "connector_id")
            self._record(station_id).connectors[evse_id or 0, connector_id or 0] = ConnectorStatus(
                evse_id=evse_id,
                connector_id=connector_id,
                status=status,
                error_code=text(p, "error_code"),
                at=moment(p, "at") or envelope.occurred_at,
            )
            return True
        if kind in (EventType.STATION_ONLINE, EventType.STATION_OFFLINE):
            record = self._record(station_id)
            record.online = kind == EventType.STATION_ONLINE
            record.online_changed_at = moment(p, "at") or envelope.occurred_at
            return True
        return False

    def remove(self, station_id: str) -> None:
        """A tombstone (stations.v1 is compact,delete): the station is forgotten."""
        self._records.pop(station_id, None)

    def _record(self, station_id: str) -> StationRecord:
        record = self._records.get(station_id)
        if record is None:
            record = self._records[station_id] = StationRecord(station_id=station_id)
        return record
