"""A station's connectors: charging sessions, meter readings, limits (pure: takes ``now``)."""

from random import Random
from typing import Any, Protocol

from tools.simulator import payloads
from tools.simulator.connector import Connector, Phase
from tools.simulator.events import Event, SessionEnded, SessionStarted
from tools.simulator.payloads import PHASES, VOLTAGE_V, Sample, Version

BATTERY_WH = 60_000.0
STOP_REASONS_V201 = {  # 1.6 Reason -> 2.0.1 (triggerReason, stoppedReason)
    "Local": ("StopAuthorized", "Local"),
    "Remote": ("RemoteStop", "Remote"),
    "DeAuthorized": ("Deauthorized", "DeAuthorized"),
    "SoftReset": ("ResetCommand", "ImmediateReset"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "UnlockCommand": ("UnlockCommand", "Other"),
}


class Outbox(Protocol):
    """Where the connectors put their CALLs and events: the station."""

    def queue(
        self,
        action: str,
        payload: dict[str, Any],
        connector_id: int | None = None,
        step: str | None = None,
    ) -> None: ...

    def emit(self, event: Event) -> None: ...

    def wall(self, now: float) -> float: ...


class Charging:
    def __init__(
        self,
        version: Version,
        outbox: Outbox,
        rng: Random,
        *,
        connectors: int,
        sessions: bool,
        session_length_s: float,
        meter_interval_s: float,
        idle_s: float,
        power_w: tuple[float, float],
        id_tokens: tuple[str, ...],
    ) -> None:
        self.version, self._outbox, self._rng = version, outbox, rng
        self.connectors = [
            Connector(i, energy_wh=float(rng.randrange(100_000, 5_000_000)))
            for i in range(1, connectors + 1)
        ]
        self.sessions, self.session_length_s, self.idle_s = sessions, session_length_s, idle_s
        self.meter_interval_s = meter_interval_s
        self._power_w, self._id_tokens = power_w, id_tokens
        self._station_limit_w: float | None = None

    def connector(self, connector_id: int | None) -> Connector | None:
        if connector_id is None or not 1 <= connector_id <= len(self.connectors):
            return None
        return self.connectors[connector_id - 1]

    def deadlines(self) -> list[float | None]:
        return [c.next_at for c in self.connectors] + [c.stop_at for c in self.connectors]

    def after_boot(self, now: float) -> None:
        """After every accepted boot: report every connector, schedule first sessions."""
        for connector in self.connectors:
            self.queue_status(connector, now, force=True)
            if connector.phase is Phase.IDLE and connector.next_at is None:
                self._schedule_session(connector, now, first=True)

    def run(self, now: float) -> None:
        for connector in self.connectors:
            if connector.stop_at is not None and now >= connector.stop_at:
                self.stop(connector, "Local", now)
            elif connector.next_at is None or now < connector.next_at:
                continue
            elif connector.phase is Phase.CHARGING:
                connector.next_at = now + self.meter_interval_s
                self.queue_meter_values(connector, now, triggered=False)
            elif connector.phase is Phase.IDLE:
                connector.next_at = None
                if connector.available:
                    self.begin(connector, self._pick_id_token(), now, authorize=True)

    # --- CALLs ---------------------------------------------------------------------------

    def queue_status(self, connector: Connector, now: float, *, force: bool = False) -> None:
        """Only a change of status, unless forced (after a boot, on a trigger)."""
        status = connector.status
        reported = status.value if self.version is Version.V16 else status.v201
        if reported == connector.reported and not force:
            return
        connector.reported = reported
        payload = payloads.status_notification(
            self.version,
            connector_id=connector.connector_id,
            status=status,
            wall_s=self._outbox.wall(now),
        )
        self._outbox.queue("StatusNotification", payload, connector.connector_id)

    def queue_meter_values(self, connector: Connector, now: float, *, triggered: bool) -> None:
        sample = self._sample(connector, now)
        if self.version is Version.V201 and connector.phase is Phase.CHARGING:
            trigger = "Trigger" if triggered else "MeterValuePeriodic"
            self._transaction_event(connector, "Updated", trigger, now, sample=sample)
            return
        charging = connector.phase is Phase.CHARGING
        payload = payloads.meter_values(
            self.version,
            connector_id=connector.connector_id,
            transaction_id=connector.transaction_id if charging else None,
            sample=sample,
            context="Trigger" if triggered else "Sample.Periodic",
            wall_s=self._outbox.wall(now),
        )
        self._outbox.queue("MeterValues", payload, connector.connector_id)

    def _transaction_event(
        self,
        connector: Connector,
        event_type: str,
        trigger: str,
        now: float,
        *,
        sample: Sample,
        stopped_reason: str | None = None,
    ) -> None:
        assert connector.transaction_id is not None
        first = event_type == "Started"
        payload = payloads.transaction_event(
            event_type=event_type,
            trigger_reason=trigger,
            seq_no=connector.seq_no,
            transaction_id=connector.transaction_id,
            charging_state="EVConnected" if event_type == "Ended" else "Charging",
            connector_id=connector.connector_id,
            wall_s=self._outbox.wall(now),
            sample=sample,
            id_token=connector.id_token if first or event_type == "Ended" else None,
            stopped_reason=stopped_reason,
            remote_start_id=connector.remote_start_id if first else None,
            context="Trigger" if trigger == "Trigger" else None,
        )
        connector.seq_no += 1
        self._outbox.queue("TransactionEvent", payload, connector.connector_id, event_type)

    # --- answers -------------------------------------------------------------------------

    def answered(
        self,
        action: str,
        step: str | None,
        connector_id: int | None,
        payload: dict[str, Any],
        now: float,
    ) -> None:
        if (connector := self.connector(connector_id)) is None:
            return
        accepted = payloads.status_of(payload) == "Accepted"
        match action, step, connector.phase:
            case "Authorize", _, Phase.AUTHORIZING if accepted:
                self._start_transaction(connector, now)
            case "Authorize", _, Phase.AUTHORIZING:
                self._idle(connector, now)
            case "StartTransaction", _, Phase.STARTING:
                transaction_id = payload.get("transactionId")
                if not isinstance(transaction_id, int):
                    self._idle(connector, now)
                    return
                connector.transaction_id = str(transaction_id)
                self._charging(connector, now)
                self._outbox.emit(SessionStarted(connector.connector_id, str(transaction_id)))
                if not accepted:  # 1.6 §5.11: the CSMS refused the id_token: stop at once
                    self.stop(connector, "DeAuthorized", now)
            case "TransactionEvent", "Started", Phase.CHARGING:
                assert connector.transaction_id is not None
                self._outbox.emit(SessionStarted(connector.connector_id, connector.transaction_id))
                if "idTokenInfo" in payload and not accepted:
                    self.stop(connector, "DeAuthorized", now)
            case ("StopTransaction", _, Phase.STOPPING) | (
                "TransactionEvent",
                "Ended",
                Phase.STOPPING,
            ):
                self._ended(connector, now)

    def failed(self, action: str, step: str | None, connector_id: int | None, now: float) -> None:
        """A CALLERROR, a timeout or a lost connection: give up on this step."""
        if (connector := self.connector(connector_id)) is None:
            return
        starting = connector.phase in (Phase.AUTHORIZING, Phase.STARTING)
        stopping = connector.phase is Phase.STOPPING
        if (starting and action in ("Authorize", "StartTransaction")) or (
            stopping and (action == "StopTransaction" or step == "Ended")
        ):
            self._idle(connector, now)

    # --- a session -----------------------------------------------------------------------

    def begin(
        self,
        connector: Connector,
        id_token: str,
        now: float,
        *,
        authorize: bool,
        remote_start_id: int | None = None,
    ) -> None:
        """Plug in and present an id_token: Authorize first, or start at once."""
        connector.begin(id_token, remote_start_id)
        connector.soc_percent = self._rng.uniform(10.0, 60.0)
        self.queue_status(connector, now)
        if authorize:
            payload = payloads.authorize(self.version, id_token)
            self._outbox.queue("Authorize", payload, connector.connector_id)
        else:
            self._start_transaction(connector, now)

    def _start_transaction(self, connector: Connector, now: float) -> None:
        connector.phase = Phase.STARTING
        connector.meter_start_wh = round(connector.energy_wh)
        if self.version is Version.V16:
            payload = payloads.start_transaction(
                connector_id=connector.connector_id,
                id_token=connector.id_token,
                meter_start_wh=connector.meter_start_wh,
                wall_s=self._outbox.wall(now),
            )
            self._outbox.queue("StartTransaction", payload, connector.connector_id)
            return
        # 2.0.1: the station owns the transaction id and starts charging at once.
        connector.transaction_id = f"{self._rng.getrandbits(128):032x}"
        connector.seq_no = 0
        trigger = "Authorized" if connector.remote_start_id is None else "RemoteStart"
        self._charging(connector, now)
        self._transaction_event(
            connector, "Started", trigger, now, sample=self._sample(connector, now)
        )

    def _charging(self, connector: Connector, now: float) -> None:
        low_w, high_w = self._power_w
        connector.phase = Phase.CHARGING
        connector.ev_power_w = self._rng.uniform(low_w, high_w)
        connector.power_w = self._limited(connector, connector.ev_power_w)
        connector.sampled_at = now
        connector.next_at = now + self.meter_interval_s
        connector.stop_at = now + self.session_length_s * self._rng.uniform(0.8, 1.2)
        self.queue_status(connector, now)

    def stop(self, connector: Connector, reason: str, now: float) -> bool:
        """Reasons are 1.6 Reason values; 2.0.1 maps them. False if nothing is charging."""
        if connector.phase is not Phase.CHARGING or connector.transaction_id is None:
            return False
        sample = self._sample(connector, now)
        connector.phase, connector.next_at, connector.stop_at = Phase.STOPPING, None, None
        connector.limit_w = None  # a TxProfile ends with its transaction
        if self.version is Version.V16:
            payload = payloads.stop_transaction(
                transaction_id=int(connector.transaction_id),
                id_token=connector.id_token,
                meter_stop_wh=round(sample.energy_wh),
                reason=reason,
                wall_s=self._outbox.wall(now),
            )
            self._outbox.queue("StopTransaction", payload, connector.connector_id)
            self.queue_status(connector, now)  # Finishing
            return True
        trigger, stopped = STOP_REASONS_V201.get(reason, ("AbnormalCondition", "Other"))
        self._transaction_event(
            connector, "Ended", trigger, now, sample=sample, stopped_reason=stopped
        )
        return True

    def _ended(self, connector: Connector, now: float) -> None:
        if connector.transaction_id is not None:
            energy_wh = connector.energy_wh - connector.meter_start_wh
            ended = SessionEnded(connector.connector_id, connector.transaction_id, energy_wh)
            self._outbox.emit(ended)
        self._idle(connector, now)

    def _idle(self, connector: Connector, now: float) -> None:
        connector.end()
        self.queue_status(connector, now)
        self._schedule_session(connector, now, first=False)

    def _schedule_session(self, connector: Connector, now: float, *, first: bool) -> None:
        if self.sessions:
            spread = self._rng.uniform(0.0, 1.0) if first else self._rng.uniform(0.5, 1.5)
            connector.next_at = now + spread * self.idle_s

    def _pick_id_token(self) -> str:
        if self._id_tokens:
            return self._rng.choice(self._id_tokens)
        return f"{self._rng.getrandbits(56):014X}"  # a 7-byte ISO 14443 UID

    # --- the meter -----------------------------------------------------------------------

    def _sample(self, connector: Connector, now: float) -> Sample:
        """Advance the register by power x time, then draw the next power with noise."""
        if connector.phase is Phase.CHARGING:
            added_wh = connector.power_w * max(0.0, now - connector.sampled_at) / 3600.0
            connector.energy_wh += added_wh
            connector.soc_percent = min(100.0, connector.soc_percent + 100 * added_wh / BATTERY_WH)
            noisy_w = connector.ev_power_w * self._rng.uniform(0.95, 1.05)
            connector.power_w = self._limited(connector, noisy_w)
        connector.sampled_at = now
        power_w = connector.power_w if connector.phase is Phase.CHARGING else 0.0
        current_a = power_w / (VOLTAGE_V * PHASES)
        return Sample(connector.energy_wh, power_w, current_a, connector.soc_percent)

    def _limited(self, connector: Connector, power_w: float) -> float:
        """K01: the transaction's TxProfile, else the TxDefaultProfile; within the station's
        maximum shared equally."""
        own = connector.limit_w if connector.limit_w is not None else connector.default_limit_w
        limits = [power_w, own]
        if self._station_limit_w is not None:
            limits.append(self._station_limit_w / len(self.connectors))
        return max(0.0, min(w for w in limits if w is not None))

    def set_limit(
        self, connector_id: int, limit_w: float | None, purpose: str = "TxProfile"
    ) -> bool:
        """A profile's limit: ``purpose`` TxProfile (its connector's transaction),
        TxDefaultProfile (connector 0: every connector), or a station maximum (shared equally).
        False: no such connector, or a TxProfile without a transaction (K01.FR.09)."""
        if purpose in ("ChargePointMaxProfile", "ChargingStationMaxProfile"):
            self._station_limit_w = limit_w
            return True
        if purpose == "TxDefaultProfile" and connector_id == 0:
            for each in self.connectors:
                each.default_limit_w = limit_w
            return True
        connector = self.connector(connector_id)
        if connector is None:
            return False
        if purpose == "TxDefaultProfile":
            connector.default_limit_w = limit_w
            return True
        if connector.transaction_id is None:
            return False
        connector.limit_w = limit_w
        return True

    def clear_limits(self) -> None:
        self._station_limit_w = None
        for connector in self.connectors:
            connector.limit_w = connector.default_limit_w = None
