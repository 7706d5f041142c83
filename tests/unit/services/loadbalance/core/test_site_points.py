"""A site's points from its document and sessions, allocated end to end (pure)."""

from services.loadbalance.core.allocation import allocate
from services.loadbalance.core.site_points import Charging, points
from services.loadbalance.core.topology import parse_site

SITE = parse_site(
    "S",
    {
        "capacity_a": 40,
        "stations": [
            "CS-1",
            {"station_id": "CS-2", "evses": 2, "rated_a": 16},
            {"station_id": "CS-3", "rated_a": 10, "priority": 1},
        ],
    },
)


def test_every_evse_is_a_point_and_only_open_sessions_want_current() -> None:
    found = points(SITE, [Charging(station_id="CS-2", evse_id=2)])
    assert [(p.point_id, p.wants, p.max_a) for p in found] == [
        ("CS-1/1", False, 32.0),
        ("CS-2/1", False, 16.0),
        ("CS-2/2", True, 16.0),
        ("CS-3/1", False, 10.0),
    ]


def test_a_site_allocated_from_its_sessions() -> None:
    """CS-3 (priority 1) first at its rating; CS-1 uses 8 A of a 20 A limit, so it is capped
    near that and CS-2 gets the rest."""
    charging = [
        Charging(station_id="CS-1", evse_id=1, measured_a=8.0, limit_a=20.0),
        Charging(station_id="CS-2", evse_id=1),
        Charging(station_id="CS-3", evse_id=1),
    ]
    limits = allocate(SITE.nodes, points(SITE, charging))
    assert limits == {"CS-1/1": 9.6, "CS-2/1": 16.0, "CS-2/2": 0.0, "CS-3/1": 10.0}
    assert sum(limits.values()) <= 40


def test_a_station_we_cannot_control_is_reserved_at_its_rating_session_or_not() -> None:
    limits = allocate(
        SITE.nodes,
        points(
            SITE,
            [Charging(station_id="CS-1", evse_id=1)],
            reserved={"CS-2/1": 16.0, "CS-2/2": 16.0},
        ),
    )
    assert (limits["CS-2/1"], limits["CS-2/2"]) == (16.0, 16.0)
    assert limits["CS-1/1"] == 8.0  # 40 - 32 reserved
