"""OCPP traffic on our topics: station CALLs, the replies to them, answers to commands (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import EventType
from contracts.fields import text, whole
from contracts.payloads.presence import Presence
from ocppj.timestamps import utc
from ocppj.versions import OcppVersion

SCHEMA_VERSION = 1
_SUBPROTOCOLS = frozenset(str(v) for v in OcppVersion)


@dataclass(frozen=True, slots=True, kw_only=True)
class StationCall:
    """OcppCall (or, with ``send``, OCPP 2.1 OcppSend) on ocpp.inbound.v1: a station-initiated
    CALL, its payload as the station sent it (camelCase)."""

    station_id: str
    ocpp_version: OcppVersion
    unique_id: str
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    connection_id: str
    gateway: int | None = None
    received_at: datetime  # the envelope's occurred_at: when the gateway received the frame
    answered_by_gateway: bool = False  # Heartbeat: the gateway answered, nobody else may
    send: bool = False  # OCPP 2.1 SEND: unconfirmed, never answered
    # Security profile 3: the CN of the certificate the connection was made with; the station
    # must have booted with it as its serial number (B01.FR.12; docs/certificates.md).
    client_cn: str | None = None

    def envelope(self) -> Envelope:
        payload: dict[str, Any] = {
            "station_id": self.station_id,
            "ocpp_version": str(self.ocpp_version),
            "connection_id": self.connection_id,
            "gateway": self.gateway,
            "unique_id": self.unique_id,
            "action": self.action,
            "payload": self.payload,
            "answered_by_gateway": self.answered_by_gateway,
        }
        if self.client_cn is not None:
            payload["client_cn"] = self.client_cn
        return Envelope(
            event_type=EventType.OCPP_SEND if self.send else EventType.OCPP_CALL,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload=payload,
            occurred_at=self.received_at,
        )

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationCall | None":
        """The CALL an OcppCall/OcppSend carries; None for other records or unusable ones."""
        if envelope.event_type not in (EventType.OCPP_CALL, EventType.OCPP_SEND):
            return None
        p = envelope.payload
        station_id = text(p, "station_id") or envelope.key
        # Exactly the subprotocol name the gateway writes: a CALL is only handled as that.
        raw_version = p.get("ocpp_version")
        version = OcppVersion(raw_version) if raw_version in _SUBPROTOCOLS else None
        unique_id, action, payload = text(p, "unique_id"), text(p, "action"), p.get("payload")
        if not station_id or version is None or not unique_id or not action:
            return None
        if not isinstance(payload, Mapping):
            return None
        return cls(
            station_id=station_id,
            ocpp_version=version,
            unique_id=unique_id,
            action=action,
            payload=payload,
            connection_id=text(p, "connection_id") or "",
            gateway=whole(p, "gateway"),
            received_at=utc(envelope.occurred_at),
            answered_by_gateway=p.get("answered_by_gateway") is True,
            send=envelope.event_type == EventType.OCPP_SEND,
            client_cn=text(p, "client_cn"),
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """The CALLRESULT payload for a station's CALL (OcppReply)."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ReplyError:
    """A CALLERROR for a station's CALL (OcppReplyError)."""

    code: str  # e.g. "SecurityError"
    description: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeferredReply:
    """A reply sent while handling a later record (a TransactionEventResponse that waited for
    its final cost): it carries the address the CALL's own headers would have given."""

    station_id: str
    action: str
    gateway: int  # the inbox partition whose gateway waits for it
    correlation_id: str  # contracts.headers.correlation_id(connection_id, unique_id)
    payload: Mapping[str, Any]

    def envelope(self) -> Envelope:
        return Envelope(
            event_type=EventType.OCPP_REPLY,
            schema_version=SCHEMA_VERSION,
            key=self.station_id,
            payload={"action": self.action, "payload": dict(self.payload)},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "station_id": self.station_id,
            "action": self.action,
            "gateway": self.gateway,
            "correlation_id": self.correlation_id,
            "payload": dict(self.payload),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DeferredReply":
        return cls(
            station_id=str(data["station_id"]),
            action=str(data["action"]),
            gateway=int(data["gateway"]),
            correlation_id=str(data["correlation_id"]),
            payload=dict(data["payload"]),
        )


def reply_to(call: Envelope, reply: Reply | ReplyError) -> Envelope:
    """OcppReply / OcppReplyError for ocpp.gateway-inbox.v1, caused by the OcppCall ``call``.
    The shell copies the call's correlation-id header onto it."""
    action = call.payload.get("action")
    if isinstance(reply, Reply):
        return call.caused(EventType.OCPP_REPLY, {"action": action, "payload": reply.payload})
    body = {"action": action, "code": reply.code, "description": reply.description}
    return call.caused(EventType.OCPP_REPLY_ERROR, body)


def parse_reply(envelope: Envelope) -> Reply | ReplyError | None:
    """The answer an OcppReply/OcppReplyError carries; None for anything else. A CALLERROR
    without a usable code is an InternalError."""
    p = envelope.payload
    if envelope.event_type == EventType.OCPP_REPLY:
        payload = p.get("payload")
        return Reply(dict(payload)) if isinstance(payload, Mapping) else None
    if envelope.event_type == EventType.OCPP_REPLY_ERROR:
        return ReplyError(text(p, "code") or "InternalError", text(p, "description") or "")
    return None


def reply_action(envelope: Envelope) -> str | None:
    """The action of the CALL an OcppReply/OcppReplyError answers, as ``reply_to`` copied it."""
    return text(envelope.payload, "action")


def station_answer(
    connection: Presence,
    *,
    unique_id: str,
    action: str,
    command_id: str,
    at: datetime,
    causation_id: str,
    request: Mapping[str, Any] | None = None,
    response: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
) -> Envelope:
    """OcppCallResult / OcppCallError on ocpp.inbound.v1 (the audit trail): the station's answer
    on ``connection`` to the command CALL ``unique_id`` that we sent it, with the ``request``
    (the CALL's payload: a remote start's answer is joined to its token by it)."""
    body: dict[str, Any] = {
        "station_id": connection.station_id,
        "ocpp_version": None if connection.ocpp_version is None else str(connection.ocpp_version),
        "connection_id": connection.connection_id,
        "gateway": connection.gateway,
        "unique_id": unique_id,
        "action": action,
        "command_id": command_id,
        "request": dict(request or {}),
    }
    if error is None:
        body["payload"] = response or {}
    else:
        body["error"] = error
    return Envelope(
        event_type=EventType.OCPP_CALL_RESULT if error is None else EventType.OCPP_CALL_ERROR,
        schema_version=SCHEMA_VERSION,
        key=connection.station_id,
        payload=body,
        occurred_at=at,
        causation_id=causation_id,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class StationAnswer:
    """OcppCallResult / OcppCallError on ocpp.inbound.v1: a station's answer to a command."""

    station_id: str
    action: str  # of the command
    command_id: str
    request: Mapping[str, Any]  # the command's payload ({} in records before 2026-11-26)
    response: Mapping[str, Any] | None  # the CALLRESULT payload; None for a CALLERROR
    at: datetime  # when the gateway received the answer

    @classmethod
    def parse(cls, envelope: Envelope) -> "StationAnswer | None":
        """The answer an OcppCallResult/OcppCallError carries; None for other records."""
        if envelope.event_type not in (EventType.OCPP_CALL_RESULT, EventType.OCPP_CALL_ERROR):
            return None
        p = envelope.payload
        station_id, action = text(p, "station_id") or envelope.key, text(p, "action")
        request, response = p.get("request", {}), p.get("payload")
        if not station_id or not action or not isinstance(request, Mapping):
            return None
        ok = envelope.event_type == EventType.OCPP_CALL_RESULT and isinstance(response, Mapping)
        return cls(
            station_id=station_id,
            action=action,
            command_id=text(p, "command_id") or "",
            request=request,
            response=response if ok else None,
            at=utc(envelope.occurred_at),
        )
