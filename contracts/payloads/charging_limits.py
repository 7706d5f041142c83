"""Limits set by someone else and what an EV needs, as 2.0.1 stations report them (pure).

- ``ChargingLimitSet`` / ``ChargingLimitCleared`` on stations.v1: K12 NotifyChargingLimit and
  K13 ClearedChargingLimit, a limit on an EVSE (0: the whole station) that the CSMS did not set
  (a local energy manager, the grid operator, the charge point operator's own system).
- ``ChargingNeedsReported`` on sessions.v1: K15 NotifyEVChargingNeeds, what the EV asks for
  (ISO 15118): its energy, its departure, its current range.

Written by the sessions service, read by load balancing and other teams.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.fields import moment, number, text, whole
from contracts.topics import Topic


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingLimitSet:
    """An external limit on ``evse_id`` (0: the station): A per phase, or None when the station
    did not say (no chargingSchedule)."""

    station_id: str
    evse_id: int
    source: str  # 2.0.1 ChargingLimitSourceEnumType: EMS, Other, SO, CSO
    grid_critical: bool | None
    limit_a: float | None
    at: datetime

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "source": self.source,
            "grid_critical": self.grid_critical,
            "limit_a": self.limit_a,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.CHARGING_LIMIT_SET,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ChargingLimitSet | None":
        p = envelope.payload
        source, evse = text(p, "source"), whole(p, "evse_id")
        if envelope.event_type != EventType.CHARGING_LIMIT_SET or source is None or evse is None:
            return None
        critical = p.get("grid_critical")
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=evse,
            source=source,
            grid_critical=critical if isinstance(critical, bool) else None,
            limit_a=number(p, "limit_a"),
            at=moment(p, "at") or envelope.occurred_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingLimitCleared:
    """The external limit of ``source`` on ``evse_id`` (0: the station) is gone."""

    station_id: str
    evse_id: int
    source: str
    at: datetime

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "source": self.source,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.STATIONS,
            event_type=EventType.CHARGING_LIMIT_CLEARED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ChargingLimitCleared | None":
        p = envelope.payload
        source, evse = text(p, "source"), whole(p, "evse_id")
        if envelope.event_type != EventType.CHARGING_LIMIT_CLEARED:
            return None
        if source is None or evse is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=evse,
            source=source,
            at=moment(p, "at") or envelope.occurred_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargingNeedsReported:
    """What the EV on ``evse_id`` asks for; a field it did not send is None."""

    station_id: str
    evse_id: int
    transfer_mode: str  # EnergyTransferModeEnumType: AC_single_phase, AC_three_phase, DC, ...
    energy_wh: float | None  # to deliver in this session
    departure_at: datetime | None
    ev_min_a: float | None  # AC: per phase
    ev_max_a: float | None
    at: datetime

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "transfer_mode": self.transfer_mode,
            "energy_wh": self.energy_wh,
            "departure_at": self.departure_at,
            "ev_min_a": self.ev_min_a,
            "ev_max_a": self.ev_max_a,
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.CHARGING_NEEDS_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "ChargingNeedsReported | None":
        p = envelope.payload
        mode, evse = text(p, "transfer_mode"), whole(p, "evse_id")
        if envelope.event_type != EventType.CHARGING_NEEDS_REPORTED:
            return None
        if mode is None or evse is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=evse,
            transfer_mode=mode,
            energy_wh=number(p, "energy_wh"),
            departure_at=moment(p, "departure_at"),
            ev_min_a=number(p, "ev_min_a"),
            ev_max_a=number(p, "ev_max_a"),
            at=moment(p, "at") or envelope.occurred_at,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EvChargingScheduleReported:
    """2.0.1 K17 NotifyEVChargingSchedule: the schedule the EV on ``evse_id`` plans to charge
    by (ISO 15118), after the limits it was given; the schedule as the station sent it."""

    station_id: str
    evse_id: int
    time_base: datetime | None  # the schedule's periods count from here
    schedule: Mapping[str, Any]  # ChargingScheduleType, camelCase
    at: datetime

    def event(self) -> DomainEvent:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "evse_id": self.evse_id,
            "time_base": self.time_base,
            "schedule": dict(self.schedule),
            "at": self.at,
        }
        return DomainEvent(
            topic=Topic.SESSIONS,
            event_type=EventType.EV_CHARGING_SCHEDULE_REPORTED,
            key=self.station_id,
            payload=payload,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "EvChargingScheduleReported | None":
        p = envelope.payload
        evse, schedule = whole(p, "evse_id"), p.get("schedule")
        if envelope.event_type != EventType.EV_CHARGING_SCHEDULE_REPORTED or evse is None:
            return None
        return cls(
            station_id=text(p, "station_id") or envelope.key,
            evse_id=evse,
            time_base=moment(p, "time_base"),
            schedule=schedule if isinstance(schedule, Mapping) else {},
            at=moment(p, "at") or envelope.occurred_at,
        )
