"""Commands the sessions service sends on its own, straight to the station's gateway (pure)."""

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from contracts.events import DomainEvent, EventType
from contracts.payloads.commands import StationCommand
from contracts.topics import Topic
from ocppj.commands.arguments import InvalidCommand
from ocppj.commands.translate import translate
from ocppj.versions import OcppVersion

DEADLINE = timedelta(seconds=60)  # the gateway answers Expired after this


def station_command(
    command: str,
    arguments: Mapping[str, Any],
    *,
    station_id: str,
    version: OcppVersion,
    gateway: int,
    command_id: str,
    now: datetime,
) -> DomainEvent | None:
    """The StationCommand for the inbox partition of ``gateway``, whose outcome goes to
    command-results.v1 and whose answer comes back on ocpp.inbound.v1 like any command's;
    None if ``version`` has no such command."""
    try:
        outgoing = translate(command, arguments, version, command_id=command_id)
    except InvalidCommand:
        return None
    sent = StationCommand(
        command_id=command_id,
        station_id=station_id,
        action=outgoing.action,
        payload=outgoing.payload,
        deadline=now + DEADLINE,
        reply_topic=Topic.COMMAND_RESULTS,
    )
    return DomainEvent(
        topic=Topic.GATEWAY_INBOX,
        event_type=EventType.STATION_COMMAND,
        key=station_id,
        payload=dict(sent.envelope().payload),
        partition=gateway,
    )
