"""Asking a station for its BootNotification when we hold none of it (pure).

A station whose state was lost (a changelog that was deleted, a station moved between
installations) keeps sending Heartbeats, StatusNotifications and transactions, and would stay
boot-gated (SecurityError) until it reboots by itself. Instead, the first such CALL also sends it
TriggerMessage(BootNotification) through its gateway's inbox partition, at most once per
``Policy.boot_request_interval_s`` (docs/sessions.md, "Lost state heals"). Pending and Rejected
stations are not asked: they boot again on the interval we gave them.
"""

from dataclasses import replace
from datetime import timedelta

from contracts.events import DomainEvent, EventType
from contracts.payloads.commands import StationCommand
from contracts.payloads.ocpp import StationCall
from contracts.topics import Topic
from ocppj.commands.arguments import InvalidCommand
from ocppj.commands.translate import translate
from ocppj.timestamps import rfc3339
from services.sessions.core.state import StationState
from services.sessions.core.step import Context

DEADLINE = timedelta(seconds=60)  # the gateway answers Expired after this


def boot_request(
    state: StationState, call: StationCall, context: Context
) -> tuple[StationState, list[DomainEvent]]:
    """The state and the StationCommand to send, if this CALL is the one to ask with."""
    interval = context.policy.boot_request_interval_s
    if state.boot_status is not None or interval <= 0 or call.gateway is None:
        return state, []
    last = state.boot_requested_at
    if last is not None and context.now - last < timedelta(seconds=interval):
        return state, []
    command_id = f"boot-request/{call.station_id}/{rfc3339(context.now)}"
    try:
        outgoing = translate(
            "TriggerMessage",
            {"message": "BootNotification"},
            call.ocpp_version,
            command_id=command_id,
        )
    except InvalidCommand:  # a version without it: nothing to ask with
        return state, []
    command = StationCommand(
        command_id=command_id,
        station_id=call.station_id,
        action=outgoing.action,
        payload=outgoing.payload,
        deadline=context.now + DEADLINE,
        reply_topic=Topic.COMMAND_RESULTS,
    )
    event = DomainEvent(
        topic=Topic.GATEWAY_INBOX,
        event_type=EventType.STATION_COMMAND,
        key=call.station_id,
        payload=dict(command.envelope().payload),
        partition=call.gateway,
    )
    return replace(state, boot_requested_at=context.now), [event]
