"""Counting and summarising a run: latency percentiles, merging, the exit verdict."""

import json
import random

import pytest

from tools.simulator.events import (
    CallAborted,
    CallAnswered,
    CallHandled,
    CallTimedOut,
    Event,
    LateAnswer,
    MalformedMessage,
    PasswordChanged,
    SessionEnded,
    SessionStarted,
)
from tools.simulator.report import Latency, Progress, Summary, Tally, merge


def test_latency_percentiles_are_within_two_percent() -> None:
    rng = random.Random(1)
    samples = sorted(rng.lognormvariate(-6, 1) for _ in range(10_000))
    latency = Latency()
    for sample in samples:
        latency.add(sample)
    for q in (0.5, 0.9, 0.99):
        assert latency.quantile(q) == pytest.approx(samples[int(q * len(samples)) - 1], rel=0.02)
    assert latency.max_s == samples[-1]
    assert latency.quantile(1.0) <= latency.max_s
    assert Latency().quantile(0.5) == 0.0


def test_tally_counts_every_event() -> None:
    tally = Tally()
    events: list[Event] = [
        CallAnswered("BootNotification", "Accepted", 0.002),
        CallAnswered("Authorize", "NotImplemented", 0.001, "NotImplemented"),
        CallTimedOut("Heartbeat"),
        CallHandled("Reset", "Accepted"),
        SessionStarted(1, "7"),
        SessionEnded(1, "7", 1234.0),
        LateAnswer("x"),
        CallAborted("MeterValues"),
        MalformedMessage("[", "not JSON"),
        PasswordChanged("secret"),
    ]
    for event in events:
        tally.record(event)
    assert tally.answers == {
        "BootNotification": {"Accepted": 1},
        "Authorize": {"NotImplemented": 1},
        "Heartbeat": {"timeout": 1},
    }
    assert tally.handled == {"Reset": {"Accepted": 1}}
    assert tally.errors == {"CALLERROR NotImplemented": 1, "Timeout": 1, "Malformed": 1}
    assert (tally.sessions_started, tally.sessions_ended, tally.energy_wh) == (1, 1, 1234.0)
    assert (tally.late_answers, tally.aborted) == (1, 1)
    assert tally.latency["BootNotification"].count == 1


def _summary(accepted: int, *, errors: int = 0, expect: int | None = None) -> Summary:
    tally = Tally(connects=accepted, sent=10, received=10)
    tally.record(CallAnswered("Heartbeat", "Result", 0.003))
    if errors:
        tally.errors["Timeout"] = errors
    return Summary(
        stations=accepted,
        versions={"1.6": accepted},
        duration_s=5.0,
        accepted=accepted,
        tally=tally,
        expect_accepted=expect,
        all_connected_s=1.0,
        load_window_s=2.0,
    )


def test_the_verdict() -> None:
    assert _summary(3).ok
    assert _summary(3, errors=2).failures == ["Timeout: 2"]
    assert _summary(3, expect=4).failures == ["accepted 3 < expected 4"]
    assert _summary(3, expect=3).ok


def test_json_round_trip_and_merge() -> None:
    one, two = _summary(3), _summary(5, errors=1)
    again = Summary.from_json(json.loads(json.dumps(one.to_json())))
    assert again.to_json() == one.to_json()
    both = merge([one, two], expect_accepted=8)
    assert (both.stations, both.accepted, both.tally.connects, both.tally.sent) == (8, 8, 8, 20)
    assert both.versions == {"1.6": 8}
    assert both.tally.latency["Heartbeat"].count == 2
    assert both.tally.errors == {"Timeout": 1}
    assert both.processes == 2
    assert not both.ok
    assert merge([one, _summary(1)], expect_accepted=None).all_accepted_s is None


def test_render_names_the_numbers_that_matter() -> None:
    text = _summary(3, errors=1).render()
    assert "3 accepted" in text
    assert "Heartbeat" in text
    assert "errors:    Timeout 1" in text
    assert "FAILED" in text
    line = Progress(
        elapsed_s=2.0, connected=3, booted=2, sent=9, answers=8, errors=0, rate_per_s=4.0
    ).render()
    assert "connected 3" in line
    assert "booted 2" in line
    assert "4/s" in line


def test_answers_during_the_warm_up_count_everywhere_but_in_the_steady_latency() -> None:
    first, second = Tally(), Tally()
    first.record(CallAnswered("BootNotification", "Accepted", 0.5), steady=False)
    first.record(CallAnswered("MeterValues", "Result", 0.010))
    second.record(CallAnswered("MeterValues", "Result", 0.020))
    first.merge(second)
    assert first.answers["BootNotification"]["Accepted"] == 1
    assert first.latency["BootNotification"].count == 1
    assert "BootNotification" not in first.steady
    assert first.steady["MeterValues"].count == 2
    again = Tally.from_json(json.loads(json.dumps(first.to_json())))
    assert again.steady["MeterValues"].count == 2
    assert again.steady["MeterValues"].max_s == pytest.approx(0.020, rel=0.03)
    summary = Summary(stations=1, versions={}, duration_s=10, accepted=1, tally=first, warmup_s=5)
    rendered = summary.render()
    assert "after the 5 s warm-up:" in rendered
    steady_part = rendered.split("after the 5 s warm-up:")[1]
    assert "MeterValues" in steady_part
    assert "BootNotification" not in steady_part
