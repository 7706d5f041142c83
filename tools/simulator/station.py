"""One simulated charging station speaking OCPP-J 1.6 or 2.0.1 (pure: sans-I/O, no clock).

The shell calls ``connect``/``disconnect``, ``receive_text(text, now)`` and
``handle_timer(now)`` (at ``next_deadline()``), then sends ``data_to_send()`` and records
``events_received()``. ``now`` is any monotonic clock in seconds; payload timestamps are
``epoch_s + now``.
"""

from collections import deque
from dataclasses import dataclass
from random import Random
from typing import Any

from tools.simulator import commands, payloads
from tools.simulator.charging import Charging
from tools.simulator.events import (
    CallAborted,
    CallAnswered,
    CallHandled,
    CallTimedOut,
    Event,
    LateAnswer,
    MalformedMessage,
    PasswordChanged,
)
from tools.simulator.frames import Call, CallError, MalformedFrame, call_text, parse
from tools.simulator.payloads import Version, status_of

BOOT_RETRY_S = 10.0  # after a CALLERROR or a timeout; Pending/Rejected wait `interval`
READ_ONLY = frozenset({"NumberOfConnectors", "MeterValuesSampledData"})
MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC"


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """What every station of a run does; times in seconds."""

    connectors: int = 1
    sessions: bool = True  # start charging sessions by themselves
    session_length_s: float = 60.0  # +-20 % per session
    meter_interval_s: float = 10.0
    idle_s: float = 10.0  # mean pause between two sessions on a connector
    heartbeat_override_s: float | None = None  # instead of the boot interval; 0: none
    call_timeout_s: float = 30.0
    boot_on_reconnect: bool = True
    id_tokens: tuple[str, ...] = ()  # empty: a random 14-hex-digit RFID UID per session
    min_power_w: float = 7_000.0
    max_power_w: float = 22_000.0
    vendor: str = "Chargebus"
    model: str = "Simulator"


@dataclass(slots=True)
class _Queued:
    action: str
    payload: dict[str, Any]
    connector_id: int | None = None
    step: str | None = None  # TransactionEvent: its eventType


@dataclass(slots=True)
class _InFlight:
    unique_id: str
    action: str
    connector_id: int | None
    step: str | None
    sent_at: float
    deadline: float


class Station:
    def __init__(
        self,
        station_id: str,
        version: Version,
        behaviour: Behaviour,
        rng: Random,
        *,
        epoch_s: float = 0.0,
    ) -> None:
        self.station_id, self.version, self.behaviour = station_id, version, behaviour
        self.charging = Charging(
            version,
            self,
            rng,
            connectors=behaviour.connectors,
            sessions=behaviour.sessions,
            session_length_s=behaviour.session_length_s,
            meter_interval_s=behaviour.meter_interval_s,
            idle_s=behaviour.idle_s,
            power_w=(behaviour.min_power_w, behaviour.max_power_w),
            id_tokens=behaviour.id_tokens,
        )
        self.connected = self.booted = self.accepted_once = False
        self.password: str | None = None  # set by the CSMS; the shell's default otherwise
        self._epoch_s = epoch_s
        # 2.0.1 Part 4 §4.1.3: ids never repeat for one identity, across connections and runs
        salt = rng.getrandbits(32) ^ int(epoch_s * 1000)
        self._id_prefix, self._next_id = f"{salt & 0xFFFFFFFF:08x}-", 0
        self._queue: deque[_Queued] = deque()
        self._in_flight: _InFlight | None = None
        self._out: list[str] = []
        self._events: list[Event] = []
        self._heartbeat_s: float | None = None
        self._heartbeat_at: float | None = None
        self._boot_at: float | None = None
        self._boot_reason = "PowerUp"
        self._settings = {"AuthorizeRemoteTxRequests": "false"}

    # --- the shell's interface -------------------------------------------------------------

    def connect(self, now: float) -> None:
        self.connected = True
        reboot = not self.booted or self.behaviour.boot_on_reconnect
        dropped = ("Heartbeat", "StatusNotification") if reboot else ("Heartbeat",)
        self._queue = deque(q for q in self._queue if q.action not in dropped)
        if reboot:  # statuses follow the boot
            self.booted, self._boot_at = False, now
        elif self._heartbeat_s is not None:
            self._heartbeat_at = now + self._heartbeat_s
        self.handle_timer(now)

    def disconnect(self, now: float) -> None:
        self.connected = False
        if (pending := self._in_flight) is not None:
            self._in_flight = None
            self._events.append(CallAborted(pending.action))
            self._failed(pending, now)

    def receive_text(self, text: str, now: float) -> None:
        try:
            frame = parse(text)
        except MalformedFrame as exc:  # never raise on bad input: report it
            self._events.append(MalformedMessage(text[:200], str(exc)))
            return
        if isinstance(frame, Call):
            reply, status = commands.answer(self, frame, now)
            self._out.append(reply)
            self._events.append(CallHandled(frame.action, status, frame.payload))
        elif (pending := self._in_flight) is None or frame.unique_id != pending.unique_id:
            self._events.append(LateAnswer(frame.unique_id))
        else:
            self._in_flight = None
            latency_s = now - pending.sent_at
            if isinstance(frame, CallError):
                self._events.append(CallAnswered(pending.action, frame.code, latency_s, frame.code))
                self._failed(pending, now)
            else:
                status = status_of(frame.payload)
                answered = CallAnswered(pending.action, status, latency_s, None, frame.payload)
                self._events.append(answered)
                self._answered(pending, frame.payload, now)
        self.handle_timer(now)

    def handle_timer(self, now: float) -> None:
        if not self.connected:
            return
        if (pending := self._in_flight) is not None and now >= pending.deadline:
            self._in_flight = None
            self._events.append(CallTimedOut(pending.action))
            self._failed(pending, now)
        if self._boot_at is not None and now >= self._boot_at:
            self._boot_at = None
            self.queue_boot()
        if self.booted:
            if self._heartbeat_at is not None and now >= self._heartbeat_at:
                self._heartbeat_at = now + (self._heartbeat_s or 0.0)
                self.queue_heartbeat()
            self.charging.run(now)
        self._send_next(now)

    def next_deadline(self) -> float | None:
        times = [self._boot_at]
        if self._in_flight is not None:
            times.append(self._in_flight.deadline)
        if self.booted:
            times.append(self._heartbeat_at)
            times.extend(self.charging.deadlines())
        present = [t for t in times if t is not None]
        return min(present) if present else None

    def data_to_send(self) -> list[str]:
        out, self._out = self._out, []
        return out

    def events_received(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    @property
    def idle(self) -> bool:
        """No CALL in flight and none waiting."""
        return self._in_flight is None and not self._queue

    @property
    def in_flight_action(self) -> str | None:
        return None if self._in_flight is None else self._in_flight.action

    def offer_load(self, action: str, now: float) -> bool:
        """Send one Heartbeat or MeterValues now, if the station is booted and idle."""
        if not (self.connected and self.booted and self.idle):
            return False
        if action == "Heartbeat":
            self.queue_heartbeat()
        else:
            self.charging.queue_meter_values(self.charging.connectors[0], now, triggered=False)
        self._send_next(now)
        return True

    # --- the outbox (charging.Outbox) ------------------------------------------------------

    def wall(self, now: float) -> float:
        return self._epoch_s + now

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def queue(
        self,
        action: str,
        payload: dict[str, Any],
        connector_id: int | None = None,
        step: str | None = None,
    ) -> None:
        self._queue.append(_Queued(action, payload, connector_id, step))

    def queue_boot(self, reason: str | None = None) -> None:
        """At the head of the queue: B01, nothing else goes before it is Accepted."""
        if any(q.action == "BootNotification" for q in self._queue):
            return
        payload = payloads.boot_notification(
            self.version,
            vendor=self.behaviour.vendor,
            model=self.behaviour.model,
            serial_number=self.station_id[-25:],
            reason=reason or self._boot_reason,
        )
        self._queue.appendleft(_Queued("BootNotification", payload))

    def queue_heartbeat(self) -> None:
        if not any(q.action == "Heartbeat" for q in self._queue):
            self.queue("Heartbeat", {})

    def _send_next(self, now: float) -> None:
        """OCPP-J §4.1.1: one CALL in flight."""
        if self._in_flight is not None or not self._queue or not self.connected:
            return
        if not self.booted and self._queue[0].action != "BootNotification":
            return
        item = self._queue.popleft()
        unique_id = f"{self._id_prefix}{self._next_id}"
        self._next_id += 1
        deadline = now + self.behaviour.call_timeout_s
        self._in_flight = _InFlight(
            unique_id, item.action, item.connector_id, item.step, now, deadline
        )
        self._out.append(call_text(unique_id, item.action, item.payload))

    # --- answers -------------------------------------------------------------------------

    def _answered(self, pending: _InFlight, payload: dict[str, Any], now: float) -> None:
        if pending.action == "BootNotification":
            self._booted(payload, now)
        else:
            self.charging.answered(pending.action, pending.step, pending.connector_id, payload, now)

    def _failed(self, pending: _InFlight, now: float) -> None:
        if pending.action == "BootNotification":
            self._boot_at = now + BOOT_RETRY_S
        else:
            self.charging.failed(pending.action, pending.step, pending.connector_id, now)

    def _booted(self, payload: dict[str, Any], now: float) -> None:
        interval = payload.get("interval")
        interval_s = float(interval) if isinstance(interval, int) and interval > 0 else None
        if payload.get("status") != "Accepted":  # Pending/Rejected: retry after `interval`
            self._boot_at = now + (interval_s or BOOT_RETRY_S)
            return
        self.booted = self.accepted_once = True
        self._boot_reason = "PowerUp"
        override = self.behaviour.heartbeat_override_s
        heartbeat_s = interval_s if override is None else override
        self._heartbeat_s = heartbeat_s or None
        self._heartbeat_at = None if self._heartbeat_s is None else now + self._heartbeat_s
        self.charging.after_boot(now)

    # --- what the CSMS can ask for (commands.ChargingStation) ------------------------------

    def reset(self, now: float) -> None:
        """Stop every transaction, then boot again a second later (without reconnecting)."""
        for connector in self.charging.connectors:
            self.charging.stop(connector, "SoftReset", now)
        self.booted, self._boot_reason, self._boot_at = False, "RemoteReset", now + 1.0

    def setting(self, key: str) -> str | None:
        """A 1.6 configuration key's value; None if unknown or write-only."""
        values = {
            "HeartbeatInterval": str(round(self._heartbeat_s or 0)),
            "MeterValueSampleInterval": str(round(self.charging.meter_interval_s)),
            "NumberOfConnectors": str(len(self.charging.connectors)),
            "MeterValuesSampledData": MEASURANDS,
        }
        return values.get(key, self._settings.get(key))

    def configure(self, key: str, value: str, now: float) -> str:
        """Returns: Accepted, Rejected (read-only or a bad value) or NotSupported."""
        if key in READ_ONLY:
            return "Rejected"
        if key == "AuthorizationKey":  # write-only: GetConfiguration never shows it
            self.password = value
            self._events.append(PasswordChanged(value))
            return "Accepted"
        if key in ("HeartbeatInterval", "MeterValueSampleInterval"):
            if not value.isdigit():
                return "Rejected"
            seconds = float(value)
            if key == "HeartbeatInterval":
                self._heartbeat_s = seconds or None
                self._heartbeat_at = now + seconds if seconds else None
            elif seconds > 0:
                self.charging.meter_interval_s = seconds
            return "Accepted"
        if key in self._settings:
            self._settings[key] = value
            return "Accepted"
        return "NotSupported"
