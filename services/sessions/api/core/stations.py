"""The stations read model: boot data, connector status, firmware and log uploads (pure)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.fields import jsonable
from contracts.payloads.firmware import FirmwareStatusReported, LogStatusReported
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from ocppj.versions import OcppVersion, version_named
from services.sessions.api.core.device_models import DeviceModelsView


def connector_json(status: StationStatusChanged) -> dict[str, Any]:
    """One entry of a station document's ``connectors`` (openapi.json: ConnectorStatus)."""
    return {
        "evse_id": status.evse_id,
        "connector_id": status.connector_id,
        "status": status.status,
        "error_code": status.error_code,
        "at": jsonable(status.at),
    }


def transfer_json(status: FirmwareStatusReported | LogStatusReported | None) -> Any:
    """A station document's ``firmware`` / ``log`` (openapi.json: TransferStatus)."""
    if status is None:
        return None
    return {
        "kind": str(status.kind),
        "status": status.status,
        "failed": status.failed,
        "request_id": status.request_id,
        "at": jsonable(status.at),
    }


def boot_json(boot: StationBooted, *, at: datetime | None) -> dict[str, Any]:
    """A station document's ``boot`` (openapi.json: Boot)."""
    return {
        "vendor": boot.vendor,
        "model": boot.model,
        "serial_number": boot.serial_number,
        "firmware_version": boot.firmware_version,
        "boot_status": boot.boot_status,
        "at": jsonable(at),
    }


@dataclass(slots=True, kw_only=True)
class StationRecord:
    """What stations.v1 says about one station."""

    station_id: str
    boot: StationBooted | None = None
    ocpp_version: OcppVersion | None = None
    booted_at: datetime | None = None
    # the last StationStatusChanged per (evse_id, connector_id), a missing id as 0
    connectors: dict[tuple[int, int], StationStatusChanged] = field(default_factory=dict)
    online: bool | None = None  # StationOnline / StationOffline, as the sessions service saw it
    online_changed_at: datetime | None = None
    firmware: FirmwareStatusReported | None = None  # the newest firmware status
    log: LogStatusReported | None = None  # the newest log (diagnostics) upload status

    def to_json(self) -> dict[str, Any]:
        return {
            "boot": None if self.boot is None else boot_json(self.boot, at=self.booted_at),
            "connectors": [connector_json(status) for _, status in sorted(self.connectors.items())],
            "firmware": transfer_json(self.firmware),
            "log": transfer_json(self.log),
        }


class StationsView:
    """Per station, the newest facts of stations.v1; ``apply`` keeps it current."""

    def __init__(self) -> None:
        self._records: dict[str, StationRecord] = {}
        self.device_models = DeviceModelsView()  # the reports of stations.latest.v1

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
        if self.device_models.apply(envelope):
            return True
        firmware = FirmwareStatusReported.parse(envelope)
        if firmware is not None:
            self._record(firmware.station_id).firmware = firmware
            return True
        log = LogStatusReported.parse(envelope)
        if log is not None:
            self._record(log.station_id).log = log
            return True
        booted = StationBooted.parse(envelope)
        if booted is not None:
            record = self._record(booted.station_id)
            record.boot = booted
            record.ocpp_version = version_named(booted.ocpp_version) or record.ocpp_version
            record.booted_at = envelope.occurred_at
            return True
        status = StationStatusChanged.parse(envelope)
        if status is not None:
            connector = (status.evse_id or 0, status.connector_id or 0)
            self._record(status.station_id).connectors[connector] = status
            return True
        online = StationOnlineChanged.parse(envelope)
        if online is not None:
            record = self._record(online.station_id)
            record.online = online.online
            record.online_changed_at = online.at
            return True
        return False

    def remove(self, station_id: str) -> None:
        """A tombstone (stations.v1 is compact,delete): the station is forgotten."""
        self._records.pop(station_id, None)
        self.device_models.remove(station_id)

    def _record(self, station_id: str) -> StationRecord:
        record = self._records.get(station_id)
        if record is None:
            record = self._records[station_id] = StationRecord(station_id=station_id)
        return record
