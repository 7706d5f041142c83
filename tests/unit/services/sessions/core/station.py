"""A test station: sends messages through ``handle`` and checks every output on the way (tests).

Every reply is validated against the OCPP response schema of the station's version, every
state survives the shell's msgpack round trip, every domain event encodes as an envelope.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack

from contracts.codec import encode
from contracts.events import DomainEvent
from contracts.payloads.billing import CostQuoted
from contracts.payloads.ocpp import Reply, StationAnswer, StationCall, station_answer
from contracts.payloads.presence import Presence
from contracts.payloads.tokens import Token
from ocppj.timestamps import rfc3339
from ocppj.validation import Validator
from ocppj.versions import OcppVersion
from services.sessions.core.handlers import handle
from services.sessions.core.messages import Message, parse
from services.sessions.core.policy import Policy
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step
from services.sessions.core.waiting import StagedPart

V16, V201 = OcppVersion.V16, OcppVersion.V201
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
STATION_ID = "CS-0001"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ts(seconds: float) -> str:
    """The OCPP timestamp ``seconds`` after T0."""
    return rfc3339(at(seconds))


def round_trip(state: StationState) -> StationState:
    """What the shell does: to_dict -> msgpack -> table -> msgpack -> from_dict; the parts of
    reports coming in are records of their own."""
    packed = msgpack.packb(state.to_dict(), datetime=True)
    parts = [msgpack.packb(part.to_dict(), datetime=True) for part in state.staged]
    staged = tuple(StagedPart.from_dict(msgpack.unpackb(p, timestamp=3)) for p in parts)
    return StationState.from_dict(msgpack.unpackb(packed, timestamp=3), staged=staged)


def quiet_policy() -> Policy:
    """The default policy without the inventory request after a boot (test_inventory.py has
    it), so that the other tests see only the events of what they send."""
    return Policy(fetch_inventory=False)


def boot_payload(version: OcppVersion) -> dict[str, Any]:
    if version is V16:
        return {
            "chargePointVendor": "VendorX",
            "chargePointModel": "Model1",
            "chargePointSerialNumber": "SN-1",
            "firmwareVersion": "1.2.3",
        }
    station = {"vendorName": "VendorX", "model": "Model1", "serialNumber": "SN-1"}
    return {"reason": "PowerUp", "chargingStation": station | {"firmwareVersion": "1.2.3"}}


@dataclass
class Station:
    version: OcppVersion = V16
    policy: Policy = field(default_factory=quiet_policy)
    tokens: dict[str, Token] = field(default_factory=dict)
    state: StationState | None = None
    station_id: str = STATION_ID
    next_transaction_id: int = 100
    now: datetime = T0
    connection_id: str = "conn-1"
    events: list[DomainEvent] = field(default_factory=list)  # everything written so far

    def context(self) -> Context:
        return Context(
            policy=self.policy,
            tokens=self.tokens,
            now=self.now,
            new_transaction_id=self.next_transaction_id,
        )

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def call(self, action: str, payload: dict[str, Any], **kwargs: Any) -> Step:
        message = StationCall(
            station_id=self.station_id,
            ocpp_version=self.version,
            unique_id="u1",
            action=action,
            payload=payload,
            connection_id=self.connection_id,
            gateway=3,
            received_at=self.now,
            **kwargs,
        )
        return self._run(message, action)

    def presence(self, *, connected: bool, connection_id: str, gateway: int = 3) -> Step:
        change = Presence(
            station_id=self.station_id,
            connected=connected,
            connection_id=connection_id,
            gateway=gateway,
            ocpp_version=self.version,
            gateway_boot="b1",
            connected_at=self.now if connected else None,
            disconnected_at=None if connected else self.now,
        )
        return self._run(change, None)

    def answer(self, action: str, request: dict[str, Any], response: dict[str, Any] | None) -> Step:
        """The station's answer to our command ``action`` with ``request``, as the gateway
        records it (``response`` None: a CALLERROR); what the worker reads of it."""
        connection = Presence(
            station_id=self.station_id,
            connected=True,
            connection_id=self.connection_id,
            gateway=3,
            ocpp_version=self.version,
            gateway_boot="b1",
            connected_at=self.now,
        )
        error = {"code": "NotSupported", "description": "", "details": {}}
        record = station_answer(
            connection,
            unique_id="c1",
            action=action,
            command_id="cmd-1",
            at=self.now,
            causation_id="event-1",
            request=request,
            response=response,
            error=error if response is None else None,
        )
        message = parse(record)
        assert isinstance(message, StationAnswer)
        return self._run(message, None)

    def quote(self, transaction_id: str, incl_vat: str, *, final: bool = False) -> Step:
        """Billing's CostQuoted of a transaction of this station, as the worker reads it."""
        quote = CostQuoted(
            session_id=f"{self.station_id}/{transaction_id}",
            station_id=self.station_id,
            transaction_id=transaction_id,
            currency="EUR",
            excl_vat=incl_vat,
            incl_vat=incl_vat,
            final=final,
            at=self.now,
            tariff_id="T1",
            price_text="0.30 EUR/kWh, incl. VAT",
            language="en",
        )
        message = parse(quote.event().envelope(occurred_at=self.now))
        assert isinstance(message, CostQuoted)
        return self._run(message, None)

    def boot(self) -> Step:
        return self.call("BootNotification", boot_payload(self.version))

    def _run(self, message: Message, action: str | None) -> Step:
        step = handle(self.state, message, self.context())
        for deferred in step.deferred:
            assert deferred.station_id == self.station_id
            validator = Validator(self.version)
            validator.validate_response(deferred.action, dict(deferred.payload), outgoing=True)
        if step.used_transaction_id:
            self.next_transaction_id += 1
        if isinstance(step.reply, Reply):
            assert action is not None
            Validator(self.version).validate_response(action, step.reply.payload, outgoing=True)
        assert round_trip(step.state) == step.state
        for event in step.events:
            assert event.key == self.station_id
            encode(event.envelope())
        self.state = step.state
        self.events.extend(step.events)
        return step


def kinds(events: list[DomainEvent]) -> list[str]:
    return [e.event_type for e in events]
