"""What each input does to a site's state, before the site is allocated again (pure).

Inputs: the site document (SiteDefined), a capacity (CapacityChanged), and the station events
of the site's stations re-keyed by site (router.py): sessions starting, metered and ending,
stations booting and going on- or offline, and the outcomes of our own profiles.
"""

from dataclasses import replace
from datetime import datetime

from contracts.events import Outcome
from contracts.payloads.charging_limits import (
    ChargingLimitCleared,
    ChargingLimitSet,
    ChargingNeedsReported,
)
from contracts.payloads.commands import CommandCompleted
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from contracts.payloads.sites import (
    CapacityChanged,
    ForecastPublished,
    GenerationMeasured,
    SiteDefined,
)
from contracts.payloads.stations import StationBooted, StationOnlineChanged
from services.loadbalance.core.drawn import DEFAULT_EVSE
from services.loadbalance.core.site_points import point_id
from services.loadbalance.core.site_state import Limit, OpenSession, SiteState, Window

MAX_WINDOWS = 100  # capacity windows kept per site: the newest
MAX_SLOTS = 7 * 24 * 4  # forecast slots kept: a week of quarter hours
# A StationOffline outcome says nothing about the station's profiles; Expired: never sent.
NOT_SENT = frozenset({Outcome.STATION_OFFLINE, Outcome.EXPIRED, Outcome.NOT_HERE})

Input = (
    GenerationMeasured
    | ForecastPublished
    | ChargingLimitSet
    | ChargingLimitCleared
    | ChargingNeedsReported
    | SiteDefined
    | CapacityChanged
    | SessionStarted
    | SessionUpdated
    | SessionEnded
    | StationBooted
    | StationOnlineChanged
    | CommandCompleted
)


def apply(
    state: SiteState, message: Input, now: datetime, *, token_group: str | None = None
) -> SiteState:
    """``state`` after ``message`` (``token_group``: a SessionStarted's id token's group)."""
    match message:
        case SiteDefined():
            return _defined(state, message)
        case CapacityChanged():
            return _capacity(state, message, now)
        case SessionStarted() | SessionUpdated():
            return _session(state, message, now, token_group)
        case SessionEnded():
            return _ended(state, message)
        case StationBooted():
            if message.boot_status != "Accepted":
                return state
            station = replace(
                state.station(message.station_id),
                online=True,
                ocpp_version=message.ocpp_version,
                booted_at=now,
                refused_at=None,  # a new boot: it is asked again
            )
            state = state.with_station(message.station_id, station)
            # It may have lost its profiles: its default goes out again.
            return state.with_limit(point_id(message.station_id, DEFAULT_EVSE), None)
        case StationOnlineChanged():
            station = replace(state.station(message.station_id), online=message.online)
            state = state.with_station(message.station_id, station)
            if message.online:
                return state.with_limit(point_id(message.station_id, DEFAULT_EVSE), None)
            return state
        case CommandCompleted():
            return _outcome(state, message, now)
        case ChargingLimitSet() | ChargingLimitCleared():
            return _external(state, message)
        case ChargingNeedsReported():
            return _needs(state, message)
        case GenerationMeasured():
            generation = replace(
                state, generation_a=message.generation_a, generation_until=message.valid_until
            )
            return generation
        case ForecastPublished():
            return replace(state, forecast=message.slots[:MAX_SLOTS])


def _external(state: SiteState, event: ChargingLimitSet | ChargingLimitCleared) -> SiteState:
    """K12/K13: a limit someone else set on an EVSE (0: the station), by its source; one whose
    value the station did not say is not known, so not respected beyond what it draws."""
    key = f"{event.station_id}/{event.evse_id}/{event.source}"
    external = {k: v for k, v in state.external.items() if k != key}
    if isinstance(event, ChargingLimitSet) and event.limit_a is not None:
        external[key] = event.limit_a
    return replace(state, external=external)


def _needs(state: SiteState, needs: ChargingNeedsReported) -> SiteState:
    """K15 (or the API): the session on the EVSE takes at most the EV's maximum (AC), and needs
    its energy by its departure (counted from what it had when it said so)."""
    key = point_id(needs.station_id, needs.evse_id)
    session = state.sessions.get(key)
    if session is None:
        return state
    ac = needs.transfer_mode != "DC"
    session = replace(
        session,
        ev_max_a=needs.ev_max_a if ac and needs.ev_max_a is not None else session.ev_max_a,
        need_wh=needs.energy_wh,
        need_from_wh=session.energy_wh,
        departure_at=needs.departure_at,
    )
    return replace(state, sessions={**state.sessions, key: session})


def _defined(state: SiteState, defined: SiteDefined) -> SiteState:
    """A new document; what is known of stations no longer in the site is forgotten."""
    kept = set(defined.stations)
    state = replace(
        state,
        document=defined.document,
        stations={k: v for k, v in state.stations.items() if k in kept},
        sessions={k: v for k, v in state.sessions.items() if v.station_id in kept},
        target={k: v for k, v in state.target.items() if k.rsplit("/", 1)[0] in kept},
        external={k: v for k, v in state.external.items() if k.split("/", 1)[0] in kept},
    )
    for key in [k for k in state.limits if k.rsplit("/", 1)[0] not in kept]:
        state = state.with_limit(key, None)  # and its decreases on their way no longer wait
    return state


def _capacity(state: SiteState, changed: CapacityChanged, now: datetime) -> SiteState:
    window = Window(
        limit_a=changed.limit_a,
        valid_from=changed.valid_from,
        valid_until=changed.valid_until,
        source=changed.source,
    )
    live = [w for w in state.windows if w.valid_until is None or w.valid_until > now]
    return replace(state, windows=(*live, window)[-MAX_WINDOWS:])


def _session(
    state: SiteState,
    event: SessionStarted | SessionUpdated,
    now: datetime,
    token_group: str | None = None,
) -> SiteState:
    """A session opens, or reports what it draws; one first seen updated (its station joined
    the site while it ran) opens here too."""
    evse = event.evse_id or event.connector_id
    known = next((k for k, s in state.sessions.items() if s.session_id == event.session_id), None)
    if known is None:
        if evse is None:
            return state
        key = point_id(event.station_id, evse)
        session = OpenSession(
            session_id=event.session_id,
            station_id=event.station_id,
            evse_id=evse,
            transaction_id=event.transaction_id,
            token_group=token_group,
        )
        # A new transaction on the EVSE: the last one's TxProfile went with it.
        state = state.with_limit(key, None)
    else:
        key, session = known, state.sessions[known]
    if isinstance(event, SessionUpdated):
        session = replace(
            session,
            measured_a=event.current_a if event.current_a is not None else session.measured_a,
            measured_at=now if event.current_a is not None else session.measured_at,
            energy_wh=event.energy_wh if event.energy_wh is not None else session.energy_wh,
        )
    station = state.station(event.station_id)
    state = state.with_station(event.station_id, replace(station, online=True))
    return replace(state, sessions={**state.sessions, key: session})


def _ended(state: SiteState, ended: SessionEnded) -> SiteState:
    key = next((k for k, s in state.sessions.items() if s.session_id == ended.session_id), None)
    if key is None:
        return state
    sessions = {k: v for k, v in state.sessions.items() if k != key}
    return replace(state, sessions=sessions).with_limit(key, None)


def _outcome(state: SiteState, result: CommandCompleted, now: datetime) -> SiteState:
    """One of our profiles ended: accepted, it is the key's limit; refused or unanswered, the
    station counts at its rating until it accepts one."""
    if not result.final:
        return state
    for key, limit in state.limits.items():
        sent = next((s for s in limit.sent if s.command_id == result.command_id), None)
        if sent is None:
            continue
        rest = tuple(s for s in limit.sent if s is not sent)
        if result.outcome == Outcome.ANSWERED and result.status == "Accepted":
            accepted = Limit(accepted=sent.limit_a, sent=rest, accepted_at=now, plan=sent.plan)
            station = replace(state.station(result.station_id), refused_at=None)  # it accepts
            return state.with_limit(key, accepted).with_station(result.station_id, station)
        state = state.with_limit(key, replace(limit, sent=rest))
        if result.outcome in NOT_SENT:
            return state
        station = replace(state.station(result.station_id), refused_at=now)
        return state.with_station(result.station_id, station)
    return state
