"""Remote starts joined to the transactions they start: whose token a session is (pure).

2.0.1 F01: RequestStartTransaction carries ``idToken`` and ``remoteStartId``; "the Charging
Station SHALL send a TransactionEventRequest ... with the remoteStartId" (F01.FR.26), and with
AuthorizeRemoteStart false it need not send the idToken at all. 1.6: RemoteStartTransaction
carries ``idTag`` (and maybe ``connectorId``); the StartTransaction that follows carries the
idTag itself, which must be the same.

The station's accepted answer reaches us on ocpp.inbound.v1 as OcppCallResult with the
request in it, in the station's partition, before or after the transaction's first message
(the gateway publishes them independently). Either order joins:

- answer first: the remote start waits in ``StationState.remote_starts`` (at most
  ``MAX_PENDING``, for ``PENDING_FOR``) until a transaction takes it: 2.0.1 the one with its
  ``remoteStartId``; 1.6 the next StartTransaction on its connector (any connector if it named
  none);
- transaction first: the answer finds it (2.0.1 by ``remoteStartId`` or the response's
  ``transactionId``; 1.6 an open transaction on its connector with the same idTag) and writes
  SessionUpdated, so that sessions.open.v1 shows the token at once.

A transaction without a token takes the remote start's token; one with a token keeps it, and
a different one is reported (``RemoteStartMismatch``). ``id_token_source`` records where the
token came from (``TokenSource``).
"""

from datetime import datetime, timedelta

from contracts.events import DomainEvent
from contracts.fields import mapping, text, whole
from contracts.payloads.ocpp import StationAnswer
from contracts.payloads.sessions import Anomaly, TokenSource
from services.sessions.core import domain_events as de
from services.sessions.core.copying import replace
from services.sessions.core.settling import save, settle
from services.sessions.core.state import StationState, Transaction
from services.sessions.core.step import Step
from services.sessions.core.waiting import RemoteStart

REQUEST_START = "RequestStartTransaction"  # 2.0.1
REMOTE_START = "RemoteStartTransaction"  # 1.6
ACTIONS = frozenset({REQUEST_START, REMOTE_START})
MAX_PENDING = 8  # accepted remote starts a station may have waiting
PENDING_FOR = timedelta(minutes=10)  # well over 1.6 ConnectionTimeOut / 2.0.1 EVConnectionTimeOut
ACCEPTED = "Accepted"


def accepted(answer: StationAnswer) -> RemoteStart | None:
    """The remote start a station accepted; None for anything else."""
    response = answer.response
    if answer.action not in ACTIONS or response is None or text(response, "status") != ACCEPTED:
        return None
    request = answer.request
    if answer.action == REQUEST_START:
        id_token = mapping(request, "idToken") or {}
        value = text(id_token, "idToken")
        if value is None:
            return None
        return RemoteStart(
            id_token=value,
            id_token_type=text(id_token, "type"),
            remote_start_id=whole(request, "remoteStartId"),
            evse_id=whole(request, "evseId"),
            transaction_id=text(response, "transactionId"),
            at=answer.at,
        )
    id_tag = text(request, "idTag")
    if id_tag is None:
        return None
    return RemoteStart(id_token=id_tag, evse_id=whole(request, "connectorId"), at=answer.at)


def same_token(a: str, b: str) -> bool:
    """1.6 IdToken and 2.0.1 IdTokenType.idToken are both case-insensitive."""
    return a.casefold() == b.casefold()


def join(t: Transaction, start: RemoteStart) -> tuple[Transaction, str | None]:
    """``t`` with the remote start's token, unless it has its own; a mismatch, described."""
    if t.id_token is None:
        joined = replace(
            t,
            id_token=start.id_token,
            id_token_type=start.id_token_type,
            id_token_source=str(TokenSource.REMOTE_START),
        )
        return joined, None
    if same_token(t.id_token, start.id_token):
        return replace(t, id_token_source=str(TokenSource.REMOTE_START)), None
    mismatch = f"started with token {t.id_token!r} after a remote start for {start.id_token!r}"
    return t, mismatch


def take_by_id(
    state: StationState, remote_start_id: int, *, at: datetime
) -> tuple[StationState, RemoteStart | None]:
    """2.0.1: the waiting remote start with ``remote_start_id``, taken out of ``state``."""
    waiting = _fresh(state.remote_starts, at)
    found = next((r for r in waiting if r.remote_start_id == remote_start_id), None)
    return _without(state, waiting, found), found


def take_on(
    state: StationState, evse_id: int | None, id_token: str, *, at: datetime
) -> tuple[StationState, RemoteStart | None]:
    """1.6: the waiting remote start that a StartTransaction on connector ``evse_id`` with
    ``id_token`` at ``at`` (log time) answers, taken out of ``state``: one for that token, else
    one for that connector (a mismatch). One for any connector with another token is left
    waiting: the start may be another driver's on another connector."""
    waiting = _fresh(state.remote_starts, at)
    candidates = [r for r in waiting if r.remote_start_id is None and r.evse_id in (None, evse_id)]
    found = next((r for r in candidates if same_token(r.id_token, id_token)), None) or next(
        (r for r in candidates if r.evse_id is not None), None
    )
    return _without(state, waiting, found), found


def _without(
    state: StationState, waiting: tuple[RemoteStart, ...], found: RemoteStart | None
) -> StationState:
    rest = tuple(r for r in waiting if r is not found)
    return state if rest == state.remote_starts else replace(state, remote_starts=rest)


def answered(state: StationState, answer: StationAnswer) -> Step:
    """The station accepted a remote start: join it to its transaction if that already came,
    else keep it waiting."""
    start = accepted(answer)
    if start is None:
        return Step(state=state)
    t = _started_before(state, start)
    if t is None:
        waiting = (*_fresh(state.remote_starts, start.at), start)[-MAX_PENDING:]
        return Step(state=replace(state, remote_starts=waiting))
    t, mismatch = join(t, start)
    events = mismatch_anomaly(state.station_id, t, mismatch, action=answer.action, at=answer.at)
    if t.announced and not t.end_announced:
        t = replace(t, update_pending=True)  # sessions.open.v1 shows the token now
    t, settled = settle(state.station_id, t)
    state, dropped = save(state, t, action=answer.action, at=answer.at)
    return Step(state=state, events=events + settled + dropped)


def mismatch_anomaly(
    station_id: str, t: Transaction, mismatch: str | None, *, action: str, at: datetime
) -> list[DomainEvent]:
    """The RemoteStartMismatch anomaly that ``join`` found, if it found one."""
    if mismatch is None:
        return []
    return [
        de.anomaly(
            station_id,
            Anomaly.REMOTE_START_MISMATCH,
            mismatch,
            action=action,
            at=at,
            transaction_id=t.key,
        )
    ]


def _started_before(state: StationState, start: RemoteStart) -> Transaction | None:
    """The open transaction this remote start started, if its first message came first."""
    for t in reversed(state.transactions):
        if t.ended or t.id_token_source == TokenSource.REMOTE_START:
            continue
        if start.transaction_id is not None and t.key == start.transaction_id:
            return t
        if start.remote_start_id is not None:
            if t.remote_start_id == start.remote_start_id:
                return t
        elif (
            t.id_token is not None
            and same_token(t.id_token, start.id_token)
            and start.evse_id in (None, t.evse_id)
        ):
            return t
    return None


def _fresh(waiting: tuple[RemoteStart, ...], at: datetime) -> tuple[RemoteStart, ...]:
    return tuple(r for r in waiting if at - r.at <= PENDING_FOR)
