"""Reports that come in parts, assembled: one ReportReceived per report, bounded (pure).

2.0.1 NotifyReport (B07/B08), NotifyMonitoringReport (N02), ReportChargingProfiles (K09),
NotifyCustomerInformation (N09) and NotifyDisplayMessages (O04) answer a request of the CSMS
(its ``requestId``) in one or more parts: "seqNo" starts at 0 and "tbc" (to be continued, default
false) says that more follow. Each part is answered at once with an empty response (the station
sends the next one only after it). The parts are staged in the station's state, each under a
changelog key of its own (``<station>/part/<kind>/<requestId>/<seqNo>``), and the report is
written as one ReportReceived (stations.v1) when:

- the part without ``tbc`` has come and seqNo 0 up to it has no gap (``complete``); a
  duplicate seqNo is ignored (a station resends a part whose answer it missed);
- no part came for ``Policy.report_timeout_s`` (``timed_out``, with what arrived and the seqNo
  that are missing); the partition's clock (the gateways' heartbeats) looks;
- the station has more than ``MAX_OPEN`` reports open: the oldest is closed as timed out.

A report is bounded to about ``MAX_REPORT_BYTES`` of rows; the rows beyond are counted in
``rows_dropped``, not kept, so that the event stays well under Kafka's 1 MiB record limit.
ReportChargingProfiles and NotifyDisplayMessages have no seqNo: their parts count in arrival
order. 1.6 has one report of this kind, GetConfiguration, which comes whole in the answer.

The station's Accepted answer to the request (GetBaseReport, GetReport, GetMonitoringReport,
GetChargingProfiles, CustomerInformation, GetDisplayMessages) is remembered, so the report says
what it answers (``requested``); a report whose requestId no request has is matched to the only
open request of its kind, if there is one (stations that answer with requestId 0 exist).
"""

from datetime import datetime, timedelta
from typing import Any

from contracts.events import DomainEvent
from contracts.fields import text, whole
from contracts.payloads.ocpp import Reply, StationAnswer, StationCall
from contracts.payloads.station_reports import ReportKind, ReportOutcome, ReportReceived
from ocppj.timestamps import parse_timestamp
from services.sessions.core.copying import replace
from services.sessions.core.report_rows import ROWS, configuration_16, size

__all__ = ["answered", "expire", "in_order", "part", "size", "waiting"]
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step, protocol_error
from services.sessions.core.waiting import ClosedReport, RequestedReport, StagedPart

MAX_REPORT_BYTES = 512 * 1024  # of rows per report, about (report_rows.size)
MAX_PARTS = 1024  # parts of one report; seqNo from 0 to MAX_PARTS - 1
MAX_OPEN = 8  # reports a station may have coming in at once
MAX_REQUESTED = 8  # accepted requests remembered per station
MAX_CLOSED = 16  # reports written lately, remembered per station for the timeout

KINDS = {
    "NotifyReport": ReportKind.DEVICE_MODEL,
    "NotifyMonitoringReport": ReportKind.MONITORS,
    "ReportChargingProfiles": ReportKind.CHARGING_PROFILES,
    "NotifyCustomerInformation": ReportKind.CUSTOMER_INFORMATION,
    "NotifyDisplayMessages": ReportKind.DISPLAY_MESSAGES,
}
REQUESTS = {
    "GetBaseReport": ReportKind.DEVICE_MODEL,
    "GetReport": ReportKind.DEVICE_MODEL,
    "GetMonitoringReport": ReportKind.MONITORS,
    "GetChargingProfiles": ReportKind.CHARGING_PROFILES,
    "CustomerInformation": ReportKind.CUSTOMER_INFORMATION,
    "GetDisplayMessages": ReportKind.DISPLAY_MESSAGES,
}
GET_CONFIGURATION = "GetConfiguration"
ACTIONS = frozenset(REQUESTS) | {GET_CONFIGURATION}


def part(state: StationState, call: StationCall, ctx: Context) -> Step:
    """One part of a report: staged, or the report written when it is the last."""
    kind = KINDS[call.action]
    p = call.payload
    request_id = whole(p, "requestId")
    if request_id is None:
        return Step(state=state, reply=protocol_error(call, "requestId"))
    same = [s for s in state.staged if s.kind is kind and s.request_id == request_id]
    seq_no = whole(p, "seqNo")
    if seq_no is None:
        seq_no = len(same)  # the reports without seqNo: arrival order
    if seq_no < 0 or any(s.seq_no == seq_no for s in same) or _closed(state, kind, request_id):
        # a duplicate (its rows are staged already), or a part of a report written already
        return Step(state=state, reply=Reply({}))
    if seq_no >= MAX_PARTS:  # more parts than a report may have: it is written as it stands
        if not same:
            return Step(state=state, reply=Reply({}))
        state, report = _close(state, same, ReportOutcome.TIMED_OUT, call.received_at)
        return Step(state=state, reply=Reply({}), events=[report])
    used = sum(s.size for s in same)
    rows, dropped = bounded(ROWS[kind](p), used)
    staged = StagedPart(
        kind=kind,
        request_id=request_id,
        seq_no=seq_no,
        tbc=p.get("tbc") is True,
        rows=tuple(rows),
        rows_dropped=dropped,
        size=sum(size(row) for row in rows),
        generated_at=parse_timestamp(p.get("generatedAt")),
        received_at=call.received_at,
    )
    parts = sorted((*same, staged), key=lambda s: s.seq_no)
    if any(not s.tbc for s in parts) and not _missing(parts):
        state, report = _close(state, parts, ReportOutcome.COMPLETE, call.received_at)
        return Step(state=state, reply=Reply({}), events=[report])
    state = replace(state, staged=in_order((*state.staged, staged)))
    events = []
    while len(_open_reports(state)) > MAX_OPEN:
        oldest = min(_open_reports(state).values(), key=lambda ps: ps[0].received_at)
        state, report = _close(state, oldest, ReportOutcome.TIMED_OUT, call.received_at)
        events.append(report)
    return Step(state=state, reply=Reply({}), events=events)


def bounded(rows: list[dict[str, Any]], used: int) -> tuple[list[dict[str, Any]], int]:
    """The rows that fit in what is left of MAX_REPORT_BYTES after ``used``; how many did not."""
    kept, dropped = [], 0
    for row in rows:
        row_size = size(row)
        if used + row_size > MAX_REPORT_BYTES:
            dropped += 1
            continue
        kept.append(row)
        used += row_size
    return kept, dropped


def in_order(parts: tuple[StagedPart, ...]) -> tuple[StagedPart, ...]:
    """``parts`` in the one order a state keeps them, however they were restored."""
    return tuple(sorted(parts, key=lambda s: (s.kind, s.request_id, s.seq_no)))


def _missing(parts: list[StagedPart]) -> list[int]:
    """The seqNo missing before the last part (the one without tbc, else the highest so far)
    of sorted ``parts``."""
    last = next((s.seq_no for s in parts if not s.tbc), parts[-1].seq_no)
    have = {s.seq_no for s in parts}
    return [n for n in range(last + 1) if n not in have]


def _open_reports(state: StationState) -> dict[tuple[ReportKind, int], list[StagedPart]]:
    reports: dict[tuple[ReportKind, int], list[StagedPart]] = {}
    for s in state.staged:
        reports.setdefault((s.kind, s.request_id), []).append(s)
    return reports


def _close(
    state: StationState, parts: list[StagedPart], outcome: ReportOutcome, at: datetime
) -> tuple[StationState, DomainEvent]:
    """The state without the report's parts and request; the ReportReceived that says it."""
    parts = sorted(parts, key=lambda s: s.seq_no)
    kind, request_id = parts[0].kind, parts[0].request_id
    requested = _request_of(state, kind, request_id)
    report = ReportReceived(
        station_id=state.station_id,
        kind=kind,
        request_id=request_id,
        outcome=outcome,
        rows=[row for s in parts for row in s.rows],
        generated_at=next((s.generated_at for s in parts if s.generated_at), None),
        closed_at=at,
        parts=len(parts),
        missing_parts=_missing(parts),
        rows_dropped=sum(s.rows_dropped for s in parts),
        requested=None if requested is None else _requested(requested),
    )
    closed = ClosedReport(kind=kind, request_id=request_id, at=at)
    state = replace(
        state,
        staged=tuple(s for s in state.staged if (s.kind, s.request_id) != (kind, request_id)),
        requested_reports=tuple(r for r in state.requested_reports if r is not requested),
        closed_reports=(*state.closed_reports, closed)[-MAX_CLOSED:],
    )
    return _note_inventory(state, report), report.event()


def _closed(state: StationState, kind: ReportKind, request_id: int) -> bool:
    return any((c.kind, c.request_id) == (kind, request_id) for c in state.closed_reports)


def _request_of(state: StationState, kind: ReportKind, request_id: int) -> RequestedReport | None:
    """The request a report answers: its requestId, else the only open one of its kind."""
    of_kind = [r for r in state.requested_reports if r.kind is kind]
    exact = next((r for r in of_kind if r.request_id == request_id), None)
    return exact if exact is not None or len(of_kind) != 1 else of_kind[0]


def _requested(request: RequestedReport) -> dict[str, Any]:
    return {"action": request.action, "request": dict(request.request)}


def _note_inventory(state: StationState, report: ReportReceived) -> StationState:
    if report.full_inventory:
        return replace(state, inventory_at=report.closed_at)
    return state


def answered(state: StationState, answer: StationAnswer) -> Step:
    """A station's answer to a request for a report: Accepted, the report is awaited; a 1.6
    GetConfiguration answer is the report itself."""
    response = answer.response
    if response is None:
        return Step(state=state)
    if answer.action == GET_CONFIGURATION:
        rows, dropped = bounded(configuration_16(response), 0)
        report = ReportReceived(
            station_id=state.station_id,
            kind=ReportKind.DEVICE_MODEL,
            request_id=None,
            outcome=ReportOutcome.COMPLETE,
            rows=rows,
            closed_at=answer.at,
            rows_dropped=dropped,
            requested={"action": answer.action, "request": dict(answer.request)},
        )
        return Step(state=_note_inventory(state, report), events=[report.event()])
    request_id = whole(answer.request, "requestId")
    if text(response, "status") != "Accepted" or request_id is None:
        return Step(state=state)
    request = RequestedReport(
        kind=REQUESTS[answer.action],
        request_id=request_id,
        action=answer.action,
        request=answer.request,
        at=answer.at,
    )
    others = tuple(
        r
        for r in state.requested_reports
        if (r.kind, r.request_id) != (request.kind, request.request_id)
    )
    # A request that reuses a requestId (some CSMSs always send 0) starts a report anew.
    reopened = tuple(
        c for c in state.closed_reports if (c.kind, c.request_id) != (request.kind, request_id)
    )
    return Step(
        state=replace(
            state,
            requested_reports=(*others, request)[-MAX_REQUESTED:],
            closed_reports=reopened,
        )
    )


def expire(
    state: StationState, now: datetime, timeout_s: int
) -> tuple[StationState, list[DomainEvent]]:
    """The reports that had no part for ``timeout_s`` by ``now``, closed with what arrived;
    requests older than that forgotten (the station accepted, then sent nothing)."""
    cutoff = now - timedelta(seconds=timeout_s)
    events = []
    for parts in list(_open_reports(state).values()):
        if max(s.received_at for s in parts) <= cutoff:
            state, report = _close(state, parts, ReportOutcome.TIMED_OUT, now)
            events.append(report)
    still_open = _open_reports(state)
    kept = tuple(
        r for r in state.requested_reports if r.at > cutoff or (r.kind, r.request_id) in still_open
    )
    if len(kept) != len(state.requested_reports):
        state = replace(state, requested_reports=kept)
    recent = tuple(c for c in state.closed_reports if c.at > cutoff)
    if len(recent) != len(state.closed_reports):
        state = replace(state, closed_reports=recent)
    return state, events


def waiting(state: StationState) -> bool:
    """Whether ``expire`` may have something to do for ``state``."""
    return bool(state.staged or state.requested_reports or state.closed_reports)
