"""Pure translation between a station connection and our records (no I/O, no clock).

The payloads themselves are built and read in contracts/payloads/; this module says which the
gateway writes for what happens on a connection, and how a reply finds its CALL again.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from contracts.envelope import Envelope
from contracts.events import Outcome
from contracts.headers import split_correlation_id
from contracts.payloads.commands import CommandCompleted, StationCommand, status_of
from contracts.payloads.ocpp import (
    Reply,
    ReplyError,
    StationCall,
    parse_reply,
    reply_action,
    station_answer,
)
from contracts.payloads.presence import ClientCertificate, Presence
from ocppj.framing import CallError, CallResult
from ocppj.timestamps import rfc3339
from ocppj.versions import OcppVersion

# Actions the gateway answers itself, because the answer needs no state (design: "Who answers").
LOCAL_ACTIONS = frozenset({"Heartbeat"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """One station WebSocket held by this gateway."""

    station_id: str
    connection_id: str
    ocpp_version: OcppVersion
    gateway: int  # the gateway instance k = its inbox partition
    gateway_boot: str  # changes at every gateway start: tells stale presence apart
    connected_at: datetime
    certificate: ClientCertificate | None = None  # profile 3: the verified client certificate

    def presence(self) -> Presence:
        """This connection as ocpp.presence.v1 says it: connected."""
        return Presence(
            station_id=self.station_id,
            connected=True,
            gateway=self.gateway,
            connection_id=self.connection_id,
            ocpp_version=self.ocpp_version,
            gateway_boot=self.gateway_boot,
            connected_at=self.connected_at,
            certificate=self.certificate,
        )


def station_call(
    connection: Connection,
    *,
    unique_id: str,
    action: str,
    payload: Mapping[str, Any],
    at: datetime,
    send: bool = False,
) -> Envelope:
    """A station CALL (or 2.1 SEND) for ocpp.inbound.v1, as the station sent it."""
    return StationCall(
        station_id=connection.station_id,
        ocpp_version=connection.ocpp_version,
        unique_id=unique_id,
        action=action,
        payload=payload,
        connection_id=connection.connection_id,
        gateway=connection.gateway,
        received_at=at,
        # Heartbeat is answered by the gateway; services must not answer it again.
        answered_by_gateway=action in LOCAL_ACTIONS,
        send=send,
        client_cn=None if connection.certificate is None else connection.certificate.common_name,
    ).envelope()


def heartbeat_result(now: datetime) -> dict[str, str]:
    """HeartbeatResponse: currentTime in RFC 3339 with a zone (ocpp.md §1.7)."""
    return {"currentTime": rfc3339(now)}


def presence_connected(connection: Connection, *, reasserted: bool = False) -> Envelope:
    """The connection's StationConnected; ``reasserted``: written again, not a new socket."""
    presence = connection.presence()
    return (replace(presence, reasserted=True) if reasserted else presence).envelope()


def presence_disconnected(connection: Connection, *, at: datetime, reason: str) -> Envelope:
    """Consumers apply it only if `connection_id` is the station's current one (design)."""
    return connection.presence().ended(at=at, reason=reason).envelope()


def command_outcome(
    command: StationCommand,
    outcome: Outcome,
    *,
    gateway: int,
    at: datetime,
    response: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
    detail: str = "",
) -> Envelope:
    """CommandCompleted: the one outcome of a command, for its reply topic."""
    return CommandCompleted(
        command_id=command.command_id,
        station_id=command.station_id,
        action=command.action,
        outcome=outcome,
        status=None if response is None else status_of(response),
        response=response,
        error=error,
        detail=detail,
        gateway=gateway,
    ).envelope(at=at, causation_id=command.event_id)


def answer_outcome(
    answer: CallResult | CallError,
) -> tuple[Outcome, dict[str, Any] | None, dict[str, Any] | None]:
    """(outcome, response, error) of a station's answer to a command: a CALLRESULT is
    ``Answered`` with its payload, a CALLERROR is ``CallError`` with code, description, details."""
    if isinstance(answer, CallResult):
        return Outcome.ANSWERED, dict(answer.payload), None
    error = {"code": answer.code, "description": answer.description, "details": answer.details}
    return Outcome.CALL_ERROR, None, error


def command_answer(
    connection: Connection,
    command: StationCommand,
    *,
    unique_id: str,
    at: datetime,
    response: Mapping[str, Any] | None = None,
    error: Mapping[str, Any] | None = None,
) -> Envelope:
    """The station's CALLRESULT/CALLERROR to a command, for ocpp.inbound.v1 (audit trail)."""
    return station_answer(
        connection.presence(),
        unique_id=unique_id,
        action=command.action,
        command_id=command.command_id,
        at=at,
        causation_id=command.event_id,
        request=command.payload,
        response=response,
        error=error,
    )


@dataclass(frozen=True, slots=True)
class InboxReply:
    """A service's answer to a station CALL, read from the gateway inbox."""

    connection_id: str
    unique_id: str
    answer: Reply | ReplyError
    action: str | None  # of the CALL it answers, for metrics


def inbox_reply(envelope: Envelope, correlation: str) -> InboxReply | None:
    """The reply for a CALL this gateway published, or None if it is not one of ours."""
    ids = split_correlation_id(correlation)
    answer = parse_reply(envelope)
    if ids is None or answer is None:
        return None
    return InboxReply(ids[0], ids[1], answer, reply_action(envelope))
