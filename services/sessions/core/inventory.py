"""Asking a station for its inventory after a boot, when we lack it or it may have changed (pure).

2.0.1 B07.FR.14: the CSMS asks FullInventory on first contact and whenever the device model may
have changed (a firmware update: variables and monitor ids can change, N04.FR.19). A 1.6
station is asked GetConfiguration without keys (every key). ``Policy.fetch_inventory`` switches
it off. The boot marks the inventory due; it is asked for with the station's next CALL, so that
the request reaches the station after the BootNotification response, never before it (a station
whose boot is not yet answered may refuse it). ``ReportReceived`` with the full inventory sets
``StationState.inventory_at`` (reports.py); a station that refuses is asked again at its next
boot, not before.
"""

from contracts.events import DomainEvent
from contracts.payloads.ocpp import StationCall
from ocppj.timestamps import rfc3339
from ocppj.versions import OcppVersion
from services.sessions.core.copying import replace
from services.sessions.core.own_commands import station_command
from services.sessions.core.policy import BootStatus
from services.sessions.core.state import StationState
from services.sessions.core.step import Context


def due(before: StationState, booted: StationState, ctx: Context) -> StationState:
    """``booted`` (the state after a BootNotification) marked if its inventory is due."""
    if not ctx.policy.fetch_inventory or booted.boot_status != BootStatus.ACCEPTED:
        return booted
    changed = before.firmware_version != booted.firmware_version
    if booted.inventory_at is None or changed:
        return replace(booted, inventory_due=True)
    return booted


def ask(
    state: StationState, call: StationCall, ctx: Context
) -> tuple[StationState, list[DomainEvent]]:
    """The request for the inventory, sent with this CALL if it is due."""
    if not state.inventory_due or call.gateway is None:
        return state, []
    if state.boot_status != BootStatus.ACCEPTED:
        return state, []
    v16 = call.ocpp_version is OcppVersion.V16
    command, arguments = (
        ("GetConfiguration", {}) if v16 else ("GetBaseReport", {"report_base": "FullInventory"})
    )
    sent = station_command(
        command,
        arguments,
        station_id=call.station_id,
        version=call.ocpp_version,
        gateway=call.gateway,
        command_id=f"inventory/{call.station_id}/{rfc3339(ctx.now)}",
        now=ctx.now,
    )
    state = replace(state, inventory_due=False, inventory_requested_at=ctx.now)
    return state, [] if sent is None else [sent]
