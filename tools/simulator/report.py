"""Counting a simulator run and summarising it: answers, errors, latency (pure)."""

import math
from collections import Counter
from dataclasses import dataclass, field, fields
from typing import Any

from tools.simulator.events import (
    CallAborted,
    CallAnswered,
    CallHandled,
    CallTimedOut,
    Event,
    LateAnswer,
    MalformedMessage,
    SessionEnded,
    SessionStarted,
)

_BASE = 1.02  # latency buckets 2 % wide: percentiles within 1 %
_UNIT_S = 1e-6


@dataclass(slots=True)
class Latency:
    """Round trips in logarithmic buckets: bounded memory, mergeable across processes."""

    buckets: Counter[int] = field(default_factory=Counter)
    count: int = 0
    max_s: float = 0.0

    def add(self, seconds: float) -> None:
        self.buckets[int(math.log(max(seconds, _UNIT_S) / _UNIT_S, _BASE))] += 1
        self.count += 1
        self.max_s = max(self.max_s, seconds)

    def quantile(self, q: float) -> float:
        """The q-quantile in seconds (0 if empty), never above the maximum."""
        rank, seen = q * self.count, 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return min(self.max_s, _UNIT_S * float(_BASE ** (bucket + 0.5)))
        return self.max_s

    def merge(self, other: "Latency") -> None:
        self.buckets.update(other.buckets)
        self.count += other.count
        self.max_s = max(self.max_s, other.max_s)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            **{f"p{q}_ms": round(self.quantile(q / 100) * 1000, 3) for q in (50, 90, 99)},
            "max_ms": round(self.max_s * 1000, 3),
            "buckets": {str(k): v for k, v in sorted(self.buckets.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Latency":
        buckets = Counter({int(k): int(v) for k, v in data["buckets"].items()})
        return cls(buckets, int(data["count"]), float(data["max_ms"]) / 1000)


@dataclass(slots=True)
class Tally:
    """Everything counted during a run; the shell feeds it, ``Summary`` reads it."""

    connects: int = 0
    reconnects: int = 0
    disconnects: int = 0  # closed by the CSMS or the network: an error
    drops: int = 0  # closed on purpose by a reconnect storm
    sent: int = 0
    received: int = 0
    answers: dict[str, Counter[str]] = field(default_factory=dict)  # action -> status
    handled: dict[str, Counter[str]] = field(default_factory=dict)  # CSMS CALLs we answered
    errors: Counter[str] = field(default_factory=Counter)
    latency: dict[str, Latency] = field(default_factory=dict)
    steady: dict[str, Latency] = field(default_factory=dict)  # latency after the warm-up
    sessions_started: int = 0
    sessions_ended: int = 0
    energy_wh: float = 0.0
    late_answers: int = 0
    aborted: int = 0  # CALLs in flight when their connection closed
    load_offered: int = 0
    load_skipped: int = 0  # no station was idle when the pacer wanted to send

    def record(self, event: Event, *, steady: bool = True) -> None:
        """Count ``event``; its latency also counts as steady state if ``steady`` (after the
        warm-up)."""
        match event:
            case CallAnswered(action, status, latency_s, error_code):
                self.answers.setdefault(action, Counter())[status] += 1
                self.latency.setdefault(action, Latency()).add(latency_s)
                if steady:
                    self.steady.setdefault(action, Latency()).add(latency_s)
                if error_code is not None:
                    self.errors[f"CALLERROR {error_code}"] += 1
            case CallTimedOut(action):
                self.answers.setdefault(action, Counter())["timeout"] += 1
                self.errors["Timeout"] += 1
            case CallHandled(action, status):
                self.handled.setdefault(action, Counter())[status] += 1
            case SessionStarted():
                self.sessions_started += 1
            case SessionEnded(energy_wh=energy_wh):
                self.sessions_ended += 1
                self.energy_wh += energy_wh
            case LateAnswer():
                self.late_answers += 1
            case CallAborted():
                self.aborted += 1
            case MalformedMessage():
                self.errors["Malformed"] += 1
            case _:
                pass  # PasswordChanged: the shell's business

    def merge(self, other: "Tally") -> None:
        for f in fields(self):
            if f.name not in _NESTED:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for mine, theirs in ((self.answers, other.answers), (self.handled, other.handled)):
            for action, statuses in theirs.items():
                mine.setdefault(action, Counter()).update(statuses)
        self.errors.update(other.errors)
        for mine_l, theirs_l in ((self.latency, other.latency), (self.steady, other.steady)):
            for action, latency in theirs_l.items():
                mine_l.setdefault(action, Latency()).merge(latency)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {f.name: getattr(self, f.name) for f in fields(self)}
        data["answers"] = {a: dict(s) for a, s in sorted(self.answers.items())}
        data["handled"] = {a: dict(s) for a, s in sorted(self.handled.items())}
        data["errors"] = dict(self.errors)
        data["latency"] = {a: lat.to_json() for a, lat in sorted(self.latency.items())}
        data["steady"] = {a: lat.to_json() for a, lat in sorted(self.steady.items())}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Tally":
        tally = cls(**{k: v for k, v in data.items() if k not in _NESTED})
        tally.answers = {a: Counter(s) for a, s in data["answers"].items()}
        tally.handled = {a: Counter(s) for a, s in data["handled"].items()}
        tally.errors = Counter(data["errors"])
        tally.latency = {a: Latency.from_json(v) for a, v in data["latency"].items()}
        tally.steady = {a: Latency.from_json(v) for a, v in data.get("steady", {}).items()}
        return tally


_NESTED = frozenset({"answers", "handled", "errors", "latency", "steady"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """One line of the progress display, every second."""

    elapsed_s: float
    connected: int
    booted: int
    sent: int
    answers: int
    errors: int
    rate_per_s: float  # answers per second over the last interval

    def render(self) -> str:
        return (
            f"{self.elapsed_s:6.1f}s  connected {self.connected}  booted {self.booted}  "
            f"sent {self.sent}  answers {self.answers}  errors {self.errors}  "
            f"{self.rate_per_s:,.0f}/s"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    stations: int
    versions: dict[str, int]
    duration_s: float
    accepted: int  # stations whose BootNotification was Accepted at least once
    tally: Tally
    expect_accepted: int | None = None
    all_connected_s: float | None = None  # from the start until every station connected once
    all_accepted_s: float | None = None
    load_window_s: float = 0.0  # how long the pacer ran
    warmup_s: float = 0.0  # latency before it is in tally.latency only, not tally.steady
    unanswered: int = 0  # CALLs still in flight at the end: not an error
    cpu_s: float = 0.0
    max_rss_mb: float = 0.0
    processes: int = 1

    @property
    def failures(self) -> list[str]:
        """Why the run failed; empty if it did not."""
        reasons = [f"{code}: {n}" for code, n in sorted(self.tally.errors.items())]
        if self.expect_accepted is not None and self.accepted < self.expect_accepted:
            reasons.append(f"accepted {self.accepted} < expected {self.expect_accepted}")
        return reasons

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def answered(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.tally.answers.values())

    def load_rate_per_s(self) -> float:
        load = sum(
            self.tally.latency[a].count
            for a in ("Heartbeat", "MeterValues")
            if a in self.tally.latency
        )
        return load / self.load_window_s if self.load_window_s else 0.0

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "tally"}
        return data | {"ok": self.ok, "failures": self.failures, "tally": self.tally.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Summary":
        names = {f.name for f in fields(cls)} - {"tally"}
        return cls(
            **{k: v for k, v in data.items() if k in names}, tally=Tally.from_json(data["tally"])
        )

    def render(self) -> str:
        t = self.tally
        versions = ", ".join(f"{v}: {n}" for v, n in sorted(self.versions.items()))
        lines = [
            f"simulator: {self.stations} stations ({versions}), {self.duration_s:.1f} s, "
            f"{self.processes} process(es)",
            f"  stations:  {self.accepted} accepted; all connected in {_s(self.all_connected_s)}, "
            f"all accepted in {_s(self.all_accepted_s)}",
            f"  links:     {t.connects} connects, {t.reconnects} reconnects, "
            f"{t.disconnects} disconnects, {t.drops} dropped by the storm",
            f"  messages:  {t.sent} sent, {t.received} received, {self.answered} answers, "
            f"{t.late_answers} late, {t.aborted} aborted, {self.unanswered} unanswered at the end",
            f"  sessions:  {t.sessions_started} started, {t.sessions_ended} ended, "
            f"{t.energy_wh / 1000:.1f} kWh",
        ]
        if t.load_offered or t.load_skipped:
            lines.append(
                f"  load:      {t.load_offered} offered, {t.load_skipped} skipped (no idle "
                f"station) over {self.load_window_s:.1f} s: "
                f"{self.load_rate_per_s():,.0f} answered/s"
            )
        lines.append("  answers (station CALLs):")
        lines += [f"    {a:<28} {_counts(s)}" for a, s in sorted(t.answers.items())]
        if t.handled:
            lines.append("  handled (CSMS CALLs):")
            lines += [f"    {a:<28} {_counts(s)}" for a, s in sorted(t.handled.items())]
        lines.append(
            f"  {'latency ms':<30} {'count':>8} {'p50':>8} {'p90':>8} {'p99':>8} {'max':>8}"
        )
        lines += _latency_lines(t.latency)
        if self.warmup_s:
            lines.append(f"  after the {self.warmup_s:g} s warm-up:")
            lines += _latency_lines(t.steady)
        lines.append(f"  errors:    {_counts(t.errors) or 'none'}")
        lines.append(f"  process:   cpu {self.cpu_s:.1f} s, max rss {self.max_rss_mb:.0f} MB")
        lines.append("  result:    " + ("OK" if self.ok else "FAILED: " + "; ".join(self.failures)))
        return "\n".join(lines)


def _latency_lines(latency: dict[str, Latency]) -> list[str]:
    lines = []
    for action, lat in sorted(latency.items()):
        ms = [lat.quantile(q) * 1000 for q in (0.5, 0.9, 0.99)] + [lat.max_s * 1000]
        lines.append(f"    {action:<28} {lat.count:>8} " + " ".join(f"{v:8.2f}" for v in ms))
    return lines


def merge(summaries: list[Summary], *, expect_accepted: int | None) -> Summary:
    """One summary for several processes: counts add up, times take the slowest."""
    tally, versions = Tally(), Counter[str]()
    for summary in summaries:
        tally.merge(summary.tally)
        versions.update(summary.versions)

    def slowest(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else max(v for v in values if v is not None)

    return Summary(
        stations=sum(s.stations for s in summaries),
        versions=dict(versions),
        duration_s=max(s.duration_s for s in summaries),
        accepted=sum(s.accepted for s in summaries),
        tally=tally,
        expect_accepted=expect_accepted,
        all_connected_s=slowest([s.all_connected_s for s in summaries]),
        all_accepted_s=slowest([s.all_accepted_s for s in summaries]),
        load_window_s=max(s.load_window_s for s in summaries),
        warmup_s=max(s.warmup_s for s in summaries),
        unanswered=sum(s.unanswered for s in summaries),
        cpu_s=sum(s.cpu_s for s in summaries),
        max_rss_mb=sum(s.max_rss_mb for s in summaries),
        processes=sum(s.processes for s in summaries),
    )


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counter.most_common())
