"""One handling step: its Context (in) and its Step (out: state, reply, domain events) (pure).

Context is what a handler may know besides the state and the message.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from contracts.events import DomainEvent
from contracts.payloads.ocpp import DeferredReply, Reply, ReplyError, StationCall
from contracts.payloads.tokens import Token
from services.sessions.core.policy import Policy
from services.sessions.core.state import StationState


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """Inputs from the shell: no clock, no I/O."""

    policy: Policy
    tokens: Mapping[str, Token]  # id_token -> token: the token store, read only
    now: datetime  # the record's occurred_at, never a clock
    new_transaction_id: int  # a fresh, globally unique int32 for a NEW 1.6 transaction


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """What handling one message gives: the new state and what to send."""

    state: StationState
    reply: Reply | ReplyError | None = None  # None: send nothing (presence, Heartbeat)
    deferred: tuple[DeferredReply, ...] = ()  # earlier CALLs' answers that waited (costs.py)
    events: list[DomainEvent] = field(default_factory=list)
    used_transaction_id: bool = False  # Context.new_transaction_id was handed out


def protocol_error(call: StationCall, missing: str) -> ReplyError:
    """For a payload without a field we need (the gateway's schema validation stops those, so
    this is defence in depth; OCPP ProtocolError: "payload for Action is incomplete")."""
    return ReplyError("ProtocolError", f"{call.action}: {missing} is missing or unusable")
