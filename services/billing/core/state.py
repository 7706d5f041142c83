"""What billing keeps per session: its facts, its frozen tariff, its meter, its CDR (pure).

``to_dict()`` gives msgpack-able data (decimals as text, aware datetimes); ``from_dict()``
reads it back exactly; unknown keys are ignored, missing ones take their defaults.
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ocppj.timestamps import utc

MAX_SAMPLES = 2000  # per session; beyond, every other older sample goes (docs/billing.md)


@dataclass(frozen=True, slots=True)
class Reading:
    """The session's energy (Wh since its start) at ``at``, the current then, and from then on
    whether the EV takes power (None: as before)."""

    at: datetime
    energy_wh: Decimal
    current_a: Decimal | None = None
    charging: bool | None = None

    def to_list(self) -> list[Any]:
        current = None if self.current_a is None else str(self.current_a)
        return [self.at, str(self.energy_wh), current, self.charging]

    @classmethod
    def from_list(cls, data: list[Any]) -> "Reading":
        at, energy, current, *rest = data  # records before 2026-11-26 have no charging
        charging = rest[0] if rest else None
        return cls(
            utc(at), Decimal(energy), None if current is None else Decimal(current), charging
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Billed:
    """One session as billing knows it, from its SessionStarted to its CDR."""

    session_id: str
    station_id: str
    transaction_id: str  # "" for a reservation that never became a session
    ocpp_version: str | None = None  # the station's, from SessionStarted
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None
    id_token_source: str | None = None
    started_at: datetime | None = None
    reserved_at: datetime | None = None  # the reservation it used was made then
    reservation_expired: bool = False  # a reservation that ended without a session
    meter_start_wh: Decimal | None = None  # the station's register at the start
    tariff_json: str | None = None  # the OCPI tariff as it was at the start (None: none)
    time_zone: str | None = None  # of its assignment; None: the service's default
    tariff_note: str | None = None  # why a more specific assignment was not used
    site_id: str | None = None  # the station's site when the tariff was chosen
    token_group: str | None = None  # the token's group then
    readings: tuple[Reading, ...] = ()  # in time order
    ended_at: datetime | None = None
    energy_wh: Decimal | None = None  # the session's energy at the end
    duration_s: Decimal | None = None  # SessionEnded's: the start when SessionStarted was missed
    stop_reason: str | None = None
    cdr: Mapping[str, Any] | None = None  # the CDR in force (the last issued, not a credit)
    corrections: int = 0  # SessionCorrected handled
    quoted_at: datetime | None = None  # the time the last CostQuoted priced up to
    cost_sent: str | None = None  # the last running cost told to the station, incl. VAT ...
    cost_sent_at: datetime | None = None  # ... and the time it was priced up to
    messages_sent: int = 0  # cost messages to the station, for their ids

    @property
    def reservation_only(self) -> bool:
        """A reservation that ended (expired, cancelled) without a session."""
        return not self.transaction_id

    @property
    def start(self) -> datetime | None:
        """When it started: SessionStarted's time; else the end less SessionEnded's duration
        (billing started after the session did); else the first reading."""
        if self.started_at is not None:
            return self.started_at
        if self.ended_at is not None and self.duration_s is not None:
            return self.ended_at - timedelta(seconds=float(self.duration_s))
        return self.readings[0].at if self.readings else self.ended_at

    def with_reading(self, reading: Reading) -> "Billed":
        """This session with ``reading`` in time order (one per instant: the newer wins), at
        most MAX_SAMPLES (every other of the older half goes when full)."""
        in_order = not self.readings or reading.at > self.readings[-1].at  # the usual case
        if in_order and len(self.readings) < MAX_SAMPLES:
            return replace(self, readings=(*self.readings, reading))
        kept = [r for r in self.readings if r.at != reading.at]
        kept.append(reading)
        kept.sort(key=lambda r: r.at)
        if len(kept) > MAX_SAMPLES:
            half = len(kept) // 2
            kept = kept[:half:2] + kept[half:]
        return replace(self, readings=tuple(kept))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if f.name == "readings":
                value = [r.to_list() for r in value]
            elif isinstance(value, Decimal):
                value = str(value)
            elif f.name == "cdr":
                value = dict(value)
            data[f.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Billed":
        names = {f.name for f in fields(cls)}
        values: dict[str, Any] = {
            k: utc(v) if isinstance(v, datetime) else v for k, v in data.items() if k in names
        }
        values["readings"] = tuple(Reading.from_list(r) for r in values.get("readings", ()))
        for name in ("energy_wh", "duration_s", "meter_start_wh"):
            if values.get(name) is not None:
                values[name] = Decimal(values[name])
        return cls(**values)
