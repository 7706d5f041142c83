"""The API's allocation history: kept for a window, read back per site and range, drawn per
phase (pure)."""

from datetime import UTC, datetime, timedelta

from contracts.payloads.sites import LimitsAllocated
from services.loadbalance.api.core.history import History, as_json, drawn, series
from services.loadbalance.core.topology import parse_site

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
SITE = parse_site(
    "S",
    {
        "capacity_a": 32,
        "stations": [
            "CS-3P",
            {"station_id": "CS-L1", "phases": 1, "phase": 1},
            {"station_id": "CS-L2", "phases": 1, "phase": 2},
        ],
    },
)


def _allocated(
    minutes: float, *limits: tuple[str, int, float], capacity: float = 32
) -> LimitsAllocated:
    return LimitsAllocated(
        site_id="S", at=T0 + timedelta(minutes=minutes), capacity_a=capacity, limits=limits
    )


def test_the_newest_is_live_and_older_ones_leave_the_window() -> None:
    history = History(keep=timedelta(hours=1))
    for minute in (0, 30, 90):
        history.apply(_allocated(minute, ("CS-3P", 1, float(minute))).envelope())
    latest = history.latest("S")
    assert latest is not None
    assert latest.at == T0 + timedelta(minutes=90)
    kept = [a.at - T0 for a in history.between("S", None, None)]
    assert kept == [timedelta(minutes=30), timedelta(minutes=90)]  # 0 is over an hour older
    later = history.between("S", T0 + timedelta(minutes=31), T0 + timedelta(minutes=91))
    assert [a.at - T0 for a in later] == [timedelta(minutes=90)]
    assert history.latest("other") is None


def test_the_allocated_current_is_that_of_the_most_loaded_phase() -> None:
    a = _allocated(0, ("CS-3P", 1, 10.0), ("CS-L1", 1, 16.0), ("CS-L2", 1, 8.0))
    assert drawn(a, SITE) == 26.0  # L1: 10 + 16
    assert drawn(a, None) == 34.0  # without the site every station counts on every phase
    shown = as_json(a, SITE)
    assert shown["stations"][1] == {
        "station_id": "CS-L1",
        "evses": [{"evse_id": 1, "limit_a": 16.0}],
    }


def test_the_plot_holds_the_last_allocation_until_the_end_of_the_range() -> None:
    rows = [_allocated(0, ("CS-3P", 1, 10.0)), _allocated(5, ("CS-3P", 1, 20.0), capacity=20)]
    points = series(rows, SITE, until=T0 + timedelta(minutes=10))
    assert points["allocated_a"] == [10.0, 20.0, 20.0]
    assert points["capacity_a"] == [32, 20, 20]
    assert points["at"][-1] == T0 + timedelta(minutes=10)
