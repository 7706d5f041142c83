"""Generation, forecasts and session needs as the API reads them: strictly, naming the field
that is wrong (pure)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.loadbalance.api.core import errors, signals
from services.loadbalance.core.topology import parse_site

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
SITE = parse_site("S", {"capacity_a": 32, "stations": [{"station_id": "CS-1", "evses": 2}]})


def test_generation_counts_for_five_minutes_unless_told() -> None:
    measured = signals.generation("S", {"generation_a": 12}, NOW)
    assert (measured.generation_a, measured.valid_until) == (12.0, NOW + timedelta(seconds=300))
    longer = signals.generation("S", {"generation_a": 0, "valid_s": 900}, NOW)
    assert longer.valid_until == NOW + timedelta(seconds=900)


def test_a_forecast_keeps_its_slots_in_order() -> None:
    body = {
        "slots": [
            {"start": "2026-11-26T12:00:00Z", "end": "2026-11-26T13:00:00Z", "price": 0.3},
            {"start": "2026-11-26T13:00:00Z", "end": "2026-11-26T14:00:00Z", "generation_a": 8},
        ]
    }
    published = signals.forecast("S", body)
    assert [(s.price, s.generation_a, s.capacity_a) for s in published.slots] == [
        (0.3, None, None),
        (None, 8.0, None),
    ]


def test_needs_name_an_evse_of_the_station_and_a_departure_ahead() -> None:
    reported = signals.needs(
        SITE,
        "CS-1",
        {"evse_id": 2, "energy_wh": 20000, "departure_at": "2026-11-26T18:00:00Z"},
        NOW,
    )
    assert (reported.evse_id, reported.energy_wh, reported.transfer_mode) == (
        2,
        20000.0,
        "AC_three_phase",
    )
    with pytest.raises(errors.StationNotInSite):
        signals.needs(SITE, "CS-9", {"energy_wh": 1, "departure_at": "2026-11-26T18:00:00Z"}, NOW)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: signals.generation("S", {"generation_a": -1}, NOW), "generation_a: -1 A"),
        (lambda: signals.generation("S", {"generation_a": 1, "valid_s": 0}, NOW), "valid_s"),
        (lambda: signals.generation("S", {"amps": 1}, NOW), "unknown field(s) ['amps']"),
        (lambda: signals.forecast("S", {"slots": []}), "slots: a list of 1"),
        (
            lambda: signals.forecast(
                "S", {"slots": [{"start": "2026-11-26T13:00:00Z", "end": "2026-11-26T12:00:00Z"}]}
            ),
            "slots[0]: end must be after start",
        ),
        (
            lambda: signals.forecast(
                "S",
                {
                    "slots": [
                        {"start": "2026-11-26T12:00:00Z", "end": "2026-11-26T14:00:00Z"},
                        {"start": "2026-11-26T13:00:00Z", "end": "2026-11-26T15:00:00Z"},
                    ]
                },
            ),
            "slots[1]: starts before slots[0] ends",
        ),
        (
            lambda: signals.forecast("S", {"slots": [{"start": "noon", "end": "2026-11-26T12Z"}]}),
            "slots[0].start: an RFC 3339",
        ),
        (
            lambda: signals.needs(
                SITE,
                "CS-1",
                {"evse_id": 3, "energy_wh": 1, "departure_at": "2026-11-26T18:00Z"},
                NOW,
            ),
            "evse_id",
        ),
        (
            lambda: signals.needs(
                SITE, "CS-1", {"energy_wh": 1, "departure_at": "2026-11-26T11:00:00Z"}, NOW
            ),
            "departure_at: it has passed",
        ),
    ],
)
def test_bad_signals_are_refused_naming_the_field(call: Any, message: str) -> None:
    with pytest.raises(errors.InvalidSignal) as refused:
        call()
    assert message in str(refused.value)
