"""A running session's cost: quotes, and the messages that show it at the station (pure).

Every priced session event gives a ``CostQuoted`` on billing.costs.v1 (the sessions worker puts
it into its TransactionEventResponse; apps may show it). Besides, the station itself is told
through the command path (commands.v1, routed by the sessions API):

- OCPP 2.0.1 I02: ``CostUpdated`` with the running cost, at most once per ``interval``;
- OCPP 1.6, the OCA note's costmsg DataTransfer: ``RunningCost`` at the start and then at most
  once per ``interval``, ``FinalCost`` at the end.

A station that refuses them (a status such as UnknownVendorId or Rejected, or a CALLERROR
NotImplemented/NotSupported) gets none until ``RETRY_REFUSED_AFTER`` of log time has passed
(docs/billing.md, "Prices at the station").
"""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from contracts.events import DomainEvent, Outcome
from contracts.payloads.billing import CostQuoted
from contracts.payloads.commands import CommandCompleted, OperatorCommand
from ocppj.versions import OcppVersion
from services.billing.core import display
from services.billing.core.ocpi_json import dumps
from services.billing.core.pricing import Cost
from services.billing.core.state import Billed
from services.billing.core.tariff import Tariff

COMMAND_PREFIX = "billing-"  # of the ids of the commands billing sends
COMMAND_NAMESPACE = uuid.UUID("b2d1e0c4-5f1a-4e7b-8c3d-9a0b1c2d3e4f")
COMMAND_TTL = timedelta(minutes=2)  # a cost older than this is not worth showing
RETRY_REFUSED_AFTER = timedelta(hours=24)  # new firmware may have learnt them
# Answers that mean "not this message, not here" (1.6 DataTransfer and ChangeConfiguration of
# DefaultPrice, 2.0.1 SetDisplayMessage).
REFUSING_STATUSES = frozenset(
    {
        "Rejected",
        "NotSupported",
        "UnknownVendorId",
        "UnknownMessageId",
        "NotSupportedMessageFormat",
        "NotSupportedPriority",
        "NotSupportedState",
    }
)
REFUSING_ERRORS = frozenset({"NotImplemented", "NotSupported"})


class CostMessages(StrEnum):
    """Which stations are sent cost messages (billing's ``--cost-messages``)."""

    ALL = "all"  # 2.0.1 CostUpdated and, for 1.6, the OCA costmsg DataTransfer
    V201 = "2.0.1"  # 2.0.1 and later only
    NONE = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Display:
    """How billing talks to the station of one message."""

    quotes: bool = True  # price running sessions (a replay wants only CDRs)
    messages: CostMessages = CostMessages.ALL
    interval: timedelta = timedelta(seconds=60)  # between two running costs of a session
    refused: bool = False  # the station refused cost messages and may not be asked again yet


def quoted(
    b: Billed, cost: Cost, tariff: Tariff | None, *, final: bool, at: datetime, zone: ZoneInfo
) -> DomainEvent:
    """The CostQuoted of ``b`` priced as ``cost`` up to ``at``."""
    rounded = cost.rounded
    text, language = display.price_text(tariff, at=b.start or at, zone=zone)
    return CostQuoted(
        session_id=b.session_id,
        station_id=b.station_id,
        transaction_id=b.transaction_id,
        currency=cost.currency,
        excl_vat=str(rounded.excl_vat),
        incl_vat=str(rounded.incl_vat),
        final=final,
        at=at,
        tariff_id=None if tariff is None else tariff.id,
        price_text=text,
        language=language,
    ).event()


def running(
    b: Billed,
    cost: Cost,
    tariff: Tariff | None,
    *,
    at: datetime,
    zone: ZoneInfo,
    now: datetime,
    show: Display,
) -> tuple[Billed, list[DomainEvent]]:
    """The message that tells the station its running cost, when one is due: the first of a
    1.6 session at once, then at most one per ``show.interval`` and only when the cost moved."""
    total = _incl_vat(cost)
    if not _addressed(b, show) or (b.cost_sent_at is not None and b.cost_sent == str(total)):
        return b, []
    if b.cost_sent_at is not None and at - b.cost_sent_at < show.interval:
        return b, []
    if b.ocpp_version == OcppVersion.V16:
        transaction_id = _int(b.transaction_id)
        if transaction_id is None or tariff is None:
            return b, []
        charging = next((r.charging for r in reversed(b.readings) if r.charging is not None), True)
        meter = (b.meter_start_wh or Decimal(0)) + (b.readings[-1].energy_wh if b.readings else 0)
        data = display.running_cost(
            transaction_id=transaction_id,
            at=at,
            meter_wh=meter,
            cost=total,
            charging=charging,
            prices=display.unit_prices(tariff, at=at, zone=zone),
        )
        command = _costmsg(b, "RunningCost", dumps(data), now)
    elif at == b.start:
        return b, []  # 2.0.1: nothing to say before the first meter value
    else:
        arguments = {"total_cost": float(total), "transaction_id": b.transaction_id}
        command = _command(b, "CostUpdated", arguments, now)
    b = replace(b, cost_sent=str(total), cost_sent_at=at, messages_sent=b.messages_sent + 1)
    return b, [command]


def final(
    b: Billed, cost: Cost, *, now: datetime, show: Display
) -> tuple[Billed, list[DomainEvent]]:
    """1.6 FinalCost; a 2.0.1 station reads its final cost in the Ended response instead."""
    transaction_id = _int(b.transaction_id)
    if not _addressed(b, show) or b.ocpp_version != OcppVersion.V16 or transaction_id is None:
        return b, []
    data = display.final_cost(transaction_id=transaction_id, cost=cost)
    command = _costmsg(b, "FinalCost", dumps(data), now)
    return replace(b, messages_sent=b.messages_sent + 1), [command]


def refusal(result: CommandCompleted) -> str | None:
    """What refused one of billing's cost messages (a status or a CALLERROR code); None when
    it was taken, or did not reach the station (offline, timed out: no refusal)."""
    if not result.command_id.startswith(COMMAND_PREFIX):
        return None
    if result.outcome == Outcome.ANSWERED and result.status in REFUSING_STATUSES:
        return result.status
    code = None if result.error is None else result.error.get("code")
    if result.outcome == Outcome.CALL_ERROR and code in REFUSING_ERRORS:
        return str(code)
    if result.outcome == Outcome.INVALID:
        return f"Invalid: {result.detail}"
    return None


def _addressed(b: Billed, show: Display) -> bool:
    if show.refused or show.messages == CostMessages.NONE or b.ocpp_version is None:
        return False
    return show.messages == CostMessages.ALL or b.ocpp_version != OcppVersion.V16


def _costmsg(b: Billed, message_id: str, data: str, now: datetime) -> DomainEvent:
    arguments = {"vendor_id": display.COSTMSG, "message_id": message_id, "data": data}
    return _command(b, "DataTransfer", arguments, now)


def _command(
    b: Billed, command: str, arguments: Mapping[str, object], now: datetime
) -> DomainEvent:
    """A command with an id derived from the session and its count."""
    return station_command(
        b.station_id, f"{b.session_id}/{b.messages_sent}", command, arguments, now=now
    )


def station_command(
    station_id: str, name: str, command: str, arguments: Mapping[str, object], *, now: datetime
) -> DomainEvent:
    """One of billing's commands to a station, its id derived from ``name`` (handled again
    after a crash, the same id: the command ledger sends it once)."""
    return OperatorCommand(
        command_id=COMMAND_PREFIX + uuid.uuid5(COMMAND_NAMESPACE, name).hex,
        station_id=station_id,
        command=command,
        arguments=arguments,
        deadline=now + COMMAND_TTL,
    ).event()


def _incl_vat(cost: Cost) -> Decimal:
    total = cost.rounded.incl_vat
    assert total is not None  # Cost.rounded always has it
    return total


def _int(transaction_id: str) -> int | None:
    try:
        return int(transaction_id)
    except ValueError:
        return None
