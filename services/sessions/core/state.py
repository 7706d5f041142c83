"""What the sessions service knows about one station: registry, connectors, transactions (pure).

``to_dict()`` gives plain msgpack-able data (str keys, lists, numbers, aware datetimes) and
``from_dict()`` reads it back exactly; missing keys take their defaults, unknown keys are
ignored, so fields can be added without a migration.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.sessions.core.copying import replace
from services.sessions.core.plain import as_dict, read
from services.sessions.core.waiting import (
    ClosedReport,
    Held,
    RemoteStart,
    RequestedReport,
    Reservation,
    StagedPart,
)

STATE_VERSION = 1
MAX_OPEN = 64  # open (or not yet fully announced) transactions kept per station
MAX_ENDED = 20  # ended transactions kept per station, to answer duplicates and late messages

SeqRanges = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive [first, last] runs


def seq_seen(ranges: SeqRanges, seq_no: int) -> bool:
    return any(first <= seq_no <= last for first, last in ranges)


def seq_add(ranges: SeqRanges, seq_no: int) -> SeqRanges:
    """``ranges`` with ``seq_no`` added; adjacent runs merge, so gaps are what is missing."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted((*ranges, (seq_no, seq_no))):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(last, merged[-1][1]))
        else:
            merged.append((first, last))
    return tuple(merged)


@dataclass(frozen=True, slots=True, kw_only=True)
class Connector:
    """The last status of one connector (2.0.1: of connector_id within EVSE evse_id).

    1.6 connectorId N > 0 is evse_id N, connector_id 1; 1.6 connectorId 0 (the whole
    station) is evse_id 0, connector_id 0.
    """

    evse_id: int
    connector_id: int
    status: str  # 1.6 ChargePointStatus or 2.0.1 ConnectorStatusEnumType
    error_code: str | None = None  # 1.6 ChargePointErrorCode; 2.0.1 has none
    at: datetime  # the station's timestamp of the status

    def to_dict(self) -> dict[str, Any]:
        return as_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Connector":
        return cls(**read(cls, data))


@dataclass(frozen=True, slots=True, kw_only=True)
class Transaction:
    """One transaction, built from whatever messages of it arrived, in any order.

    Times are the station's timestamps, never arrival times. ``announced``/``end_announced``
    record which domain events were written, so each is written once.
    """

    transaction_id: int | str  # 1.6: the int we assigned; 2.0.1: the station's string
    ocpp_version: str | None = None  # of the station when the transaction began
    evse_id: int | None = None
    connector_id: int | None = None
    id_token: str | None = None
    id_token_type: str | None = None  # 2.0.1 IdTokenEnumType
    id_token_source: str | None = None  # a TokenSource: the station's message, or a remote start
    authorization_status: str | None = None  # what we answered for id_token
    remote_start_id: int | None = None
    reservation_id: int | None = None
    reserved_at: datetime | None = None  # the reservation it used was made then
    started: bool = False  # the start itself (1.6 StartTransaction, 2.0.1 Started) arrived
    started_at: datetime | None = None
    meter_start_wh: float | None = None  # 1.6 meterStart; 2.0.1 a Transaction.Begin reading
    first_event_at: datetime | None = None  # earliest timestamp of any message of it
    first_register_wh: float | None = None  # earliest energy register reading ...
    first_register_at: datetime | None = None  # ... and its time
    energy_register_wh: float | None = None  # highest Energy.Active.Import.Register ...
    energy_register_at: datetime | None = None  # ... and the latest reading's time
    meter_backwards: bool = False  # a register reading went backwards (reported once)
    power_w: float | None = None
    power_at: datetime | None = None
    current_a: float | None = None
    current_at: datetime | None = None
    current_total_a: float | None = None  # summed over phases
    current_total_at: datetime | None = None
    soc_percent: float | None = None
    soc_at: datetime | None = None
    charging_state: str | None = None  # 2.0.1 ChargingStateEnumType; 1.6 from the connector
    charging_state_at: datetime | None = None  # the station's time of that state
    seq_nos: SeqRanges = ()  # 2.0.1 seqNo values seen
    ended: bool = False
    ended_at: datetime | None = None
    meter_stop_wh: float | None = None  # 1.6 meterStop; 2.0.1 a Transaction.End reading
    stop_reason: str | None = None
    closed_by_csms: str | None = None  # a Closure: we ended it, the station had abandoned it
    corrected: bool = False  # the station's own end came after that: SessionCorrected written
    announced: bool = False  # SessionStarted written
    update_pending: bool = False  # a SessionUpdated waits for SessionStarted
    end_announced: bool = False  # SessionEnded written
    cost: str | None = None  # billing's newest quote, incl. VAT (decimal text; costs.py) ...
    cost_final: bool = False  # ... and whether it is the final cost
    price_text: str | None = None  # the tariff as billing words it ...
    price_language: str | None = None
    price_text_sent: bool = False  # ... and whether the station was sent it
    # to_dict() computed once: a station's state is written after each of its messages, and
    # most of it is transactions that no longer change (frozen; replace() starts it afresh).
    _plain_cache: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """The transaction id as text: the same shape for 1.6 and 2.0.1."""
        return str(self.transaction_id)

    @property
    def start_wh(self) -> float | None:
        """The meter at the start: the reported one, else the earliest reading we have."""
        return self.meter_start_wh if self.meter_start_wh is not None else self.first_register_wh

    @property
    def start_time(self) -> datetime | None:
        """When it started: the reported time, else the earliest time we have."""
        return self.started_at if self.started_at is not None else self.first_event_at

    @property
    def stop_wh(self) -> float | None:
        """The meter at the end: the register only counts up, so the highest of the reported
        end and the readings."""
        known = [wh for wh in (self.meter_stop_wh, self.energy_register_wh) if wh is not None]
        return max(known, default=None)

    def energy_wh(self, register_wh: float | None) -> float | None:
        """Energy delivered from the start up to ``register_wh``; never negative (a register
        below the start is reported as MeterBackwards when read)."""
        start = self.start_wh
        return None if register_wh is None or start is None else max(register_wh - start, 0.0)

    @property
    def duration_s(self) -> float | None:
        start = self.start_time
        if self.ended_at is None or start is None:
            return None
        return (self.ended_at - start).total_seconds()

    def plain(self) -> dict[str, Any]:
        """``to_dict()``, shared and computed once: read it, never change it."""
        if self._plain_cache is None:
            object.__setattr__(self, "_plain_cache", as_dict(self))
        assert self._plain_cache is not None
        return self._plain_cache

    def to_dict(self) -> dict[str, Any]:
        return dict(self.plain())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Transaction":
        values = read(cls, data)
        values["seq_nos"] = tuple(
            (int(first), int(last)) for first, last in values.get("seq_nos", ())
        )
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class StationState:
    """Everything the sessions service keeps about one station."""

    station_id: str
    ocpp_version: str | None = None  # of the last CALL
    # registry, from the last BootNotification
    vendor: str | None = None
    model: str | None = None
    serial_number: str | None = None
    firmware_version: str | None = None
    boot_status: str | None = None  # Accepted | Pending | Rejected; None: never booted
    boot_reason: str | None = None  # 2.0.1 BootReasonEnumType
    booted_at: datetime | None = None
    boot_requested_at: datetime | None = None  # we asked for a BootNotification (TriggerMessage)
    # presence (ocpp.presence.v1) and liveness
    last_seen: datetime | None = None
    online: bool = False
    connection_id: str | None = None
    gateway: int | None = None
    gateway_boot: str | None = None  # the boot of that gateway that holds the connection
    presence_at: datetime | None = None
    connectors: tuple[Connector, ...] = ()  # sorted by (evse_id, connector_id)
    transactions: tuple[Transaction, ...] = ()  # open, or ended but not yet announced
    ended: tuple[Transaction, ...] = ()  # the last MAX_ENDED ended ones, oldest first
    local_list_version: int | None = None  # D01/1.6 GetLocalListVersion (command results)
    firmware_status: str | None = None  # 1.6/2.0.1 (Signed)FirmwareStatusNotification
    firmware_status_at: datetime | None = None
    log_status: str | None = None  # 1.6 DiagnosticsStatusNotification, LogStatusNotification
    log_status_at: datetime | None = None
    remote_starts: tuple[RemoteStart, ...] = ()  # accepted, not yet joined (remote_start.py)
    held: tuple[Held, ...] = ()  # Ended responses waiting for billing's final cost (costs.py)
    price_text: str | None = None  # the station's price before a session, as billing words it
    reservations: tuple[Reservation, ...] = ()  # accepted, not used or ended (reservations.py)
    price_language: str | None = None
    # reports coming in parts (reports.py): the parts so far, written under keys of their own
    staged: tuple[StagedPart, ...] = ()
    requested_reports: tuple[RequestedReport, ...] = ()  # accepted requests for a report
    closed_reports: tuple[ClosedReport, ...] = ()  # written lately (reports.py)
    inventory_at: datetime | None = None  # the last complete FullInventory (1.6: all keys)
    inventory_requested_at: datetime | None = None  # we asked for it (Policy.fetch_inventory)
    inventory_due: bool = False  # to be asked for with the next CALL (inventory.py)

    def connector(self, evse_id: int, connector_id: int) -> Connector | None:
        return next(
            (c for c in self.connectors if (c.evse_id, c.connector_id) == (evse_id, connector_id)),
            None,
        )

    def with_connector(self, connector: Connector) -> "StationState":
        others = [
            c
            for c in self.connectors
            if (c.evse_id, c.connector_id) != (connector.evse_id, connector.connector_id)
        ]
        ordered = sorted((*others, connector), key=lambda c: (c.evse_id, c.connector_id))
        return replace(self, connectors=tuple(ordered))

    def transaction(self, transaction_id: int | str) -> Transaction | None:
        """The open or ended transaction with this id (1.6 ints and 2.0.1 strings differ)."""
        return next(
            (
                t
                for t in (*self.transactions, *self.ended)
                if t.transaction_id == transaction_id
                and type(t.transaction_id) is type(transaction_id)
            ),
            None,
        )

    def store(self, transaction: Transaction) -> tuple["StationState", Transaction | None]:
        """This state with ``transaction`` saved: among the ended ones once SessionEnded is
        written, else among the open ones. Returns the transaction dropped to stay within
        MAX_OPEN open transactions (the oldest), if any."""
        same = transaction.transaction_id
        open_ = [t for t in self.transactions if t.transaction_id != same]
        ended = self.ended  # the same tuple while unchanged: see ``ended_changed``
        if transaction.end_announced or any(t.transaction_id == same for t in ended):
            ended = tuple(t for t in ended if t.transaction_id != same)
        dropped = None
        if transaction.end_announced:
            ended = (*ended, transaction)[-MAX_ENDED:]
        else:
            open_.append(transaction)
            if len(open_) > MAX_OPEN:
                dropped = open_.pop(0)
        return replace(self, transactions=tuple(open_), ended=ended), dropped

    def open_on(self, evse_id: int | None) -> Transaction | None:
        """The newest open transaction on ``evse_id`` (a 1.6 connectorId); None for None."""
        matches = [
            t
            for t in self.transactions
            if evse_id is not None and t.evse_id == evse_id and not t.ended
        ]
        return matches[-1] if matches else None

    def to_dict(self, *, with_ended: bool = True) -> dict[str, Any]:
        """Without ``ended`` (``with_ended=False``), as the changelog stores it: the ended
        transactions change once per session, the rest with nearly every message."""
        data = as_dict(self, _STAGED if with_ended else _ENDED | _STAGED)
        data["state_version"] = STATE_VERSION
        return data

    def staged_changes(self, before: "StationState | None") -> list[tuple[str, StagedPart | None]]:
        """The parts to write (new since ``before``) and to delete (None: gone since), by
        their key after ``<station_id>/``; parts never change once staged."""
        old = {} if before is None else {part.key: part for part in before.staged}
        new = {part.key: part for part in self.staged}
        changes: list[tuple[str, StagedPart | None]] = [
            (key, part) for key, part in new.items() if old.get(key) is not part
        ]
        changes += [(key, None) for key in old if key not in new]
        return changes

    def ended_to_list(self) -> list[dict[str, Any]]:
        """``ended`` alone, for its own changelog record."""
        return [t.plain() for t in self.ended]

    def ended_changed(self, before: "StationState | None") -> bool:
        """Whether ``ended`` differs from ``before``'s (``store`` keeps the tuple if not)."""
        if before is None:
            return bool(self.ended)
        return self.ended is not before.ended

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        ended: "tuple[Transaction, ...] | None" = None,
        staged: tuple[StagedPart, ...] = (),
    ) -> "StationState":
        """Read ``to_dict()``; ``ended``, if given, for data written without it; ``staged``,
        the parts of reports, which ``to_dict`` never writes."""
        values = read(cls, data)
        values["staged"] = staged
        values["requested_reports"] = tuple(
            RequestedReport.from_dict(r) for r in values.get("requested_reports", ())
        )
        values["closed_reports"] = tuple(
            ClosedReport.from_dict(r) for r in values.get("closed_reports", ())
        )
        values["connectors"] = tuple(Connector.from_dict(c) for c in values.get("connectors", ()))
        values["remote_starts"] = tuple(
            RemoteStart.from_dict(r) for r in values.get("remote_starts", ())
        )
        values["held"] = tuple(Held.from_dict(h) for h in values.get("held", ()))
        values["reservations"] = tuple(
            Reservation.from_dict(r) for r in values.get("reservations", ())
        )
        values["transactions"] = tuple(
            Transaction.from_dict(t) for t in values.get("transactions", ())
        )
        if "ended" in values or ended is None:
            values["ended"] = ended_from_list(values.get("ended", ()))
        else:
            values["ended"] = ended
        return cls(**values)


_ENDED = frozenset({"ended"})
_STAGED = frozenset({"staged"})


def ended_from_list(data: Iterable[Mapping[str, Any]]) -> tuple[Transaction, ...]:
    """Read ``StationState.ended_to_list()``."""
    return tuple(Transaction.from_dict(t) for t in data)


def with_charging_state(
    t: Transaction, charging_state: str | None, at: datetime
) -> tuple[Transaction, bool]:
    """``t`` with the charging state the station reported at ``at`` (an older report changes
    nothing); and whether the state changed."""
    if charging_state is None or (t.charging_state_at is not None and at < t.charging_state_at):
        return t, False
    changed = charging_state != t.charging_state
    return replace(t, charging_state=charging_state, charging_state_at=at), changed
