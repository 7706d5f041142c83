"""Asking a station for its BootNotification when we hold none of it (pure).

A station whose state was lost (a changelog that was deleted, a station moved between
installations) keeps sending Heartbeats, StatusNotifications and transactions, and would stay
boot-gated (SecurityError) until it reboots by itself. Instead, the first such CALL also sends it
TriggerMessage(BootNotification) through its gateway's inbox partition, at most once per
``Policy.boot_request_interval_s`` (docs/sessions.md, "Lost state heals"). Pending and Rejected
stations are not asked: they boot again on the interval we gave them.
"""

from datetime import timedelta

from contracts.events import DomainEvent
from contracts.payloads.ocpp import StationCall
from ocppj.timestamps import rfc3339
from services.sessions.core.copying import replace
from services.sessions.core.own_commands import station_command
from services.sessions.core.state import StationState
from services.sessions.core.step import Context


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
    command = station_command(
        "TriggerMessage",
        {"message": "BootNotification"},
        station_id=call.station_id,
        version=call.ocpp_version,
        gateway=call.gateway,
        command_id=f"boot-request/{call.station_id}/{rfc3339(context.now)}",
        now=context.now,
    )
    if command is None:  # a version without it: nothing to ask with
        return state, []
    return replace(state, boot_requested_at=context.now), [command]
