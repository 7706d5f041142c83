"""What the alerts service keeps per station: its open alerts and the clocks of its rules (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.fields import moment
from contracts.payloads.alerts import Alert


@dataclass(frozen=True, slots=True, kw_only=True)
class StationAlerts:
    station_id: str
    open: tuple[Alert, ...] = ()  # at most one per alert_id
    offline_since: datetime | None = None  # offline, as stations.v1 said it last
    boots: tuple[datetime, ...] = ()  # the boots within the reboot window, oldest first
    last_boot: datetime | None = None

    def alert(self, alert_id: str) -> Alert | None:
        return next((a for a in self.open if a.alert_id == alert_id), None)

    def with_alert(self, alert: Alert) -> "StationAlerts":
        others = tuple(a for a in self.open if a.alert_id != alert.alert_id)
        return replace(self, open=(*others, alert))

    def without(self, alert_id: str) -> "StationAlerts":
        return replace(self, open=tuple(a for a in self.open if a.alert_id != alert_id))

    def to_dict(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "open": [a.to_dict() for a in self.open],
            "offline_since": self.offline_since,
            "boots": list(self.boots),
            "last_boot": self.last_boot,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "StationAlerts":
        """Raises: KeyError, ValueError: not a state this module wrote."""
        alerts = [Alert.from_dict(a) for a in data.get("open", [])]
        boots = [moment({"at": b}, "at") for b in data.get("boots", [])]
        return cls(
            station_id=str(data["station_id"]),
            open=tuple(a for a in alerts if a is not None),
            offline_since=moment(data, "offline_since"),
            boots=tuple(b for b in boots if b is not None),
            last_boot=moment(data, "last_boot"),
        )
