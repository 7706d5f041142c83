"""The alert rules: a station's event in, alerts raised and resolved out (pure).

Each rule raises at most one alert per ``alert_id`` while it is open (no duplicates) and
resolves it once (docs/alerts.md has the table):

- StationOffline: offline (stations.v1 StationOffline) for ``offline_after_s``, judged on the
  partition's clock (the gateways' heartbeats); resolved when it is online again;
- ConnectorFaulted: a connector's status is Faulted; resolved when it leaves Faulted;
- ComponentProblem: 2.0.1 NotifyEvent says a component's ``Problem`` is true; resolved when an
  event clears it (N07.FR.02 ``cleared``) or says false;
- CriticalSecurityEvent: a security event of the 2.0.1 critical list, one alert per type
  (repeats count on it); resolved after ``security_quiet_s`` without another (our clock: a
  station's clock may be wrong, and queued events come late);
- FirmwareFailed / LogUploadFailed: a firmware or upload status that is a failure; resolved by
  a later success (Installed, Published, Uploaded);
- RebootLoop: ``reboots`` Accepted boots within ``reboot_window_s``; resolved after
  ``reboot_quiet_s`` without a boot.

A station has at most ``MAX_OPEN`` alerts open: what it reports beyond raises nothing (a
station that names thousands of components must not grow its state without bound).
"""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.alerts import Alert, AlertKind, Severity
from contracts.payloads.firmware import FirmwareStatusReported, LogStatusReported
from contracts.payloads.monitoring_events import MonitoringEventReported
from contracts.payloads.security_events import SecurityEventReported
from contracts.payloads.stations import StationBooted, StationOnlineChanged, StationStatusChanged
from ocppj.timestamps import rfc3339
from services.alerts.core.policy import Thresholds
from services.alerts.core.station import StationAlerts

Fact = (
    StationBooted
    | StationStatusChanged
    | StationOnlineChanged
    | SecurityEventReported
    | FirmwareStatusReported
    | LogStatusReported
    | MonitoringEventReported
)
Out = tuple[StationAlerts, list[DomainEvent]]

FIRMWARE_SUCCESS = frozenset({"Installed", "Published"})
MAX_OPEN = 64  # alerts open per station: a station that reports more raises no more
LOG_SUCCESS = frozenset({"Uploaded"})
# The stations.v1 events the rules read, by type: one lookup per record, not one parse per kind.
_PARSERS: dict[str, Callable[[Envelope], Fact | None]] = {
    EventType.STATION_BOOTED: StationBooted.parse,
    EventType.STATION_STATUS_CHANGED: StationStatusChanged.parse,
    EventType.STATION_ONLINE: StationOnlineChanged.parse,
    EventType.STATION_OFFLINE: StationOnlineChanged.parse,
    EventType.SECURITY_EVENT_REPORTED: SecurityEventReported.parse,
    EventType.FIRMWARE_STATUS_REPORTED: FirmwareStatusReported.parse,
    EventType.LOG_STATUS_REPORTED: LogStatusReported.parse,
    EventType.MONITORING_EVENT_REPORTED: MonitoringEventReported.parse,
}


def parse(envelope: Envelope) -> Fact | None:
    """The stations.v1 events the rules read; None for the others."""
    parser = _PARSERS.get(envelope.event_type)
    return None if parser is None else parser(envelope)


def alert_id(station_id: str, kind: AlertKind, *what: object) -> str:
    return "/".join([station_id, str(kind), *(str(w) for w in what)])


def raise_(state: StationAlerts, alert: Alert) -> Out:
    """``alert`` raised, unless one of its id is open already."""
    if state.alert(alert.alert_id) is not None or len(state.open) >= MAX_OPEN:
        return state, []
    return state.with_alert(alert), alert.raised()


def resolve(state: StationAlerts, alert_id_: str, at: datetime, resolution: str) -> Out:
    """The open alert ``alert_id_`` resolved, if there is one."""
    found = state.alert(alert_id_)
    if found is None:
        return state, []
    _, events = found.resolved(at, resolution)
    return state.without(alert_id_), events


def observe(state: StationAlerts, fact: Fact, at: datetime, t: Thresholds) -> Out:
    """``fact`` (received at ``at``, the record's time) applied to ``state``."""
    match fact:
        case StationOnlineChanged(online=True):
            state = replace(state, offline_since=None)
            offline = alert_id(state.station_id, AlertKind.STATION_OFFLINE)
            return resolve(state, offline, fact.at or at, "online again")
        case StationOnlineChanged():
            if state.offline_since is None:
                state = replace(state, offline_since=fact.at or at)
            return state, []
        case StationStatusChanged():
            return _status(state, fact, at)
        case MonitoringEventReported():
            return _problem(state, fact)
        case SecurityEventReported():
            return _security(state, fact, at)
        case FirmwareStatusReported():
            return _transfer(state, AlertKind.FIRMWARE_FAILED, fact, FIRMWARE_SUCCESS, at)
        case LogStatusReported():
            return _transfer(state, AlertKind.LOG_UPLOAD_FAILED, fact, LOG_SUCCESS, at)
        case StationBooted(boot_status="Accepted"):
            # Pending and Rejected stations boot again on the interval they were given
            return _booted(state, at, t)
        case StationBooted():
            return state, []


def _status(state: StationAlerts, fact: StationStatusChanged, at: datetime) -> Out:
    evse, connector = fact.evse_id or 0, fact.connector_id or 0
    faulted = alert_id(state.station_id, AlertKind.CONNECTOR_FAULTED, evse, connector)
    since = fact.at or at
    if fact.status != "Faulted":
        return resolve(state, faulted, since, f"status {fact.status}")
    where = "the station" if evse == 0 else f"EVSE {evse} connector {connector}"
    code = f" ({fact.error_code})" if fact.error_code and fact.error_code != "NoError" else ""
    alert = Alert(
        alert_id=faulted,
        station_id=state.station_id,
        kind=AlertKind.CONNECTOR_FAULTED,
        severity=Severity.MAJOR,
        raised_at=since,
        summary=f"{where} is Faulted{code}",
        details={"evse_id": evse, "connector_id": connector, "error_code": fact.error_code},
    )
    return raise_(state, alert)


def _problem(state: StationAlerts, fact: MonitoringEventReported) -> Out:
    if fact.variable.lower() != "problem":
        return state, []
    component = fact.component + (f".{fact.component_instance}" if fact.component_instance else "")
    evse, connector = fact.evse_id or 0, fact.connector_id or 0
    problem = alert_id(state.station_id, AlertKind.COMPONENT_PROBLEM, component, evse, connector)
    if fact.cleared or fact.actual_value.strip().lower() != "true":
        return resolve(state, problem, fact.at, "the station cleared it")
    code = f" ({fact.tech_code})" if fact.tech_code else ""
    alert = Alert(
        alert_id=problem,
        station_id=state.station_id,
        kind=AlertKind.COMPONENT_PROBLEM,
        severity=Severity.MAJOR,
        raised_at=fact.at,
        summary=f"{component} reports a problem{code}",
        details={
            "component": component,
            "evse_id": evse,
            "connector_id": connector,
            "tech_code": fact.tech_code,
            "tech_info": fact.tech_info,
            "event_id": fact.event_id,
        },
    )
    return raise_(state, alert)


def _security(state: StationAlerts, fact: SecurityEventReported, heard_at: datetime) -> Out:
    if not fact.critical:
        return state, []
    security = alert_id(state.station_id, AlertKind.CRITICAL_SECURITY_EVENT, fact.type)
    found = state.alert(security)
    if found is not None:  # a repeat: counted on the open alert, not raised again
        count = int(found.details.get("count", 1)) + 1
        details = {**found.details, "count": count, "last_at": fact.at, "heard_at": heard_at}
        again = replace(found, details=details)
        return state.with_alert(again), again.raised()[1:]  # alerts.open.v1 only
    alert = Alert(
        alert_id=security,
        station_id=state.station_id,
        kind=AlertKind.CRITICAL_SECURITY_EVENT,
        severity=Severity.CRITICAL,
        raised_at=fact.at,
        summary=f"security event {fact.type}" + (f": {fact.tech_info}" if fact.tech_info else ""),
        details={
            "type": fact.type,
            "count": 1,
            "last_at": fact.at,  # the station's time
            "heard_at": heard_at,  # ours: what the quiet time counts from
            "tech_info": fact.tech_info,
        },
    )
    return raise_(state, alert)


def _transfer(
    state: StationAlerts,
    kind: AlertKind,
    fact: FirmwareStatusReported | LogStatusReported,
    success: frozenset[str],
    at: datetime,
) -> Out:
    failed = alert_id(state.station_id, kind)
    if fact.status in success:
        return resolve(state, failed, fact.at, f"{fact.status} (request {fact.request_id})")
    if not fact.failed:
        return state, []
    what = "firmware" if kind is AlertKind.FIRMWARE_FAILED else "log upload"
    alert = Alert(
        alert_id=failed,
        station_id=state.station_id,
        kind=kind,
        severity=Severity.MAJOR if kind is AlertKind.FIRMWARE_FAILED else Severity.MINOR,
        raised_at=fact.at,
        summary=f"{what} {fact.status}",
        details={"status": fact.status, "request_id": fact.request_id, "kind": str(fact.kind)},
    )
    return raise_(state, alert)


def _booted(state: StationAlerts, at: datetime, t: Thresholds) -> Out:
    window = at - timedelta(seconds=t.reboot_window_s)
    boots = (*(b for b in state.boots if b > window), at)[-t.reboots :]
    state = replace(state, boots=boots, last_boot=at)
    if len(boots) < t.reboots:
        return state, []
    alert = Alert(
        alert_id=alert_id(state.station_id, AlertKind.REBOOT_LOOP),
        station_id=state.station_id,
        kind=AlertKind.REBOOT_LOOP,
        severity=Severity.MAJOR,
        raised_at=at,
        summary=f"{len(boots)} boots since {rfc3339(boots[0])}",
        details={"boots": len(boots), "first_at": boots[0]},
    )
    return raise_(state, alert)


def tick(state: StationAlerts, now: datetime, t: Thresholds) -> Out:
    """What the clock decides at ``now``: offline long enough, quiet long enough."""
    events: list[DomainEvent] = []
    since = state.offline_since
    if since is not None and now - since >= timedelta(seconds=t.offline_after_s):
        alert = Alert(
            alert_id=alert_id(state.station_id, AlertKind.STATION_OFFLINE),
            station_id=state.station_id,
            kind=AlertKind.STATION_OFFLINE,
            severity=Severity.MAJOR,
            raised_at=since,
            summary=f"offline since {rfc3339(since)}",
            details={"offline_since": since},
        )
        state, raised = raise_(state, alert)
        events += raised
    loop = alert_id(state.station_id, AlertKind.REBOOT_LOOP)
    quiet = timedelta(seconds=t.reboot_quiet_s)
    if state.last_boot is not None and now - state.last_boot >= quiet:
        state, resolved = resolve(state, loop, now, "no boot since " + rfc3339(state.last_boot))
        events += resolved
    security_quiet = timedelta(seconds=t.security_quiet_s)
    for alert in state.open:
        if alert.kind is not AlertKind.CRITICAL_SECURITY_EVENT:
            continue
        last = alert.details.get("heard_at")
        if isinstance(last, datetime) and now - last >= security_quiet:
            state, resolved = resolve(state, alert.alert_id, now, "none since " + rfc3339(last))
            events += resolved
    return state, events


def ticking(state: StationAlerts) -> bool:
    """Whether ``tick`` may have something to do for ``state``."""
    offline = alert_id(state.station_id, AlertKind.STATION_OFFLINE)
    waiting_offline = state.offline_since is not None and state.alert(offline) is None
    timed = {AlertKind.REBOOT_LOOP, AlertKind.CRITICAL_SECURITY_EVENT}
    return waiting_offline or any(a.kind in timed for a in state.open)
