"""Site documents: the smallest one, the whole shape, and every refusal with its reason."""

from typing import Any

import pytest

from services.loadbalance.core.allocation import Node, Point, allocate
from services.loadbalance.core.topology import InvalidSite, elsewhere, parse_site


def test_the_smallest_document_works_with_rated_defaults() -> None:
    site = parse_site("S1", {"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]})
    assert site.nodes == (Node("S1", 32.0),)
    assert [(s.station_id, s.node, s.rated_a, s.min_a, len(s.phases)) for s in site.stations] == [
        ("CS-1", "S1", 32.0, 6.0, 3),
        ("CS-2", "S1", 32.0, 6.0, 3),
    ]
    points = [
        Point(point_id=f"{s.station_id}/1", node=s.node, max_a=s.rated_a) for s in site.stations
    ]
    assert allocate(site.nodes, points) == {"CS-1/1": 16.0, "CS-2/1": 16.0}


def test_the_whole_shape() -> None:
    site = parse_site(
        "S2",
        {
            "capacity_a": 63,
            "phases": 3,
            "groups": [
                {"group_id": "feeder-1", "capacity_a": 32, "parent": None},
                {"group_id": "cabinet-1", "capacity_a": 16, "parent": "feeder-1"},
            ],
            "stations": [
                "CS-1",
                {"station_id": "CS-2", "group": "cabinet-1", "rated_a": 16, "phases": 1,
                 "phase": 2, "min_a": 8, "priority": 1, "evses": 2},
            ],
        },
    )  # fmt: skip
    assert site.nodes[1:] == (Node("feeder-1", 32.0, "S2"), Node("cabinet-1", 16.0, "feeder-1"))
    cs2 = site.station("CS-2")
    assert cs2 is not None
    assert (cs2.node, cs2.rated_a, cs2.min_a, cs2.phases, cs2.priority, cs2.evses) == (
        "cabinet-1", 16.0, 8.0, frozenset({1}), 1, 2,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"capacity_a": -1, "stations": []}, "capacity_a: -1 A is not between 0"),
        ({"capacity_a": "32", "stations": []}, "capacity_a: a number of amperes"),
        ({"capacity_a": 32, "phases": 2, "stations": []}, "phases: 1 or 3"),
        ({"capacity_a": 32, "stations": ["CS-1", "CS-1"]}, "listed twice: ['CS-1']"),
        (
            {"capacity_a": 32, "stations": [{"station_id": "CS-1", "rated_a": 16, "min_a": 20}]},
            "stations[0].min_a: 20.0 A must be above 0 and at most rated_a 16.0 A",
        ),
        (
            {"capacity_a": 32, "stations": [{"station_id": "CS-1", "group": "nope"}]},
            "stations[0].group: no group 'nope'",
        ),
        (
            {
                "capacity_a": 32,
                "groups": [
                    {"group_id": "a", "capacity_a": 10, "parent": "b"},
                    {"group_id": "b", "capacity_a": 10, "parent": "a"},
                ],
                "stations": [],
            },
            "is a cycle",
        ),
        (
            {
                "capacity_a": 32,
                "groups": [{"group_id": "a", "capacity_a": 1, "parent": "x"}],
                "stations": [],
            },
            "has parent 'x', which is no group",
        ),
        ({"capacity_a": 32, "stations": [], "colour": "red"}, "unknown field(s) ['colour']"),
        (
            {"capacity_a": 32, "stations": [{"station_id": "CS-1", "phase": 2}]},
            "phase: 1, 2 or 3, and only for a 1-phase station",
        ),
        ({"capacity_a": 32}, "stations: a list is required"),
        ({"stations": []}, "capacity_a: a number of amperes (or capacity_kw) is required"),
        ({"capacity_kw": -5, "stations": []}, "capacity_kw: a number of kW >= 0"),
        (
            {"capacity_a": 16, "token_groups": {"FLEET": "high"}, "stations": []},
            "token_groups.FLEET: a whole number from 0 to 1000",
        ),
        (
            {"capacity_a": 32, "groups": [{"group_id": "a"}], "stations": []},
            "groups[0].capacity_a: a number of amperes (or capacity_kw)",
        ),
    ],
)
def test_a_document_we_refuse_says_what_is_wrong(document: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidSite) as refused:
        parse_site("S", document)
    assert says in str(refused.value)


def test_a_station_in_two_sites_is_refused() -> None:
    first = parse_site("S1", {"capacity_a": 32, "stations": ["CS-1", "CS-2"]})
    second = parse_site("S2", {"capacity_a": 32, "stations": ["CS-2", "CS-3"]})
    assert elsewhere(second, {"S1": first}) == "stations ['CS-2'] are in site 'S1' already"
    assert elsewhere(first, {"S1": first}) is None  # replacing a site is no conflict


def test_a_capacity_in_kw_is_amperes_per_phase_at_230_v() -> None:
    """22 kW on three phases: 31.8 A per phase (rounded down); on one phase 95.6 A. With both
    figures, the lower holds."""
    three = parse_site("S", {"capacity_kw": 22, "stations": []})
    one = parse_site("S", {"capacity_kw": 22, "phases": 1, "stations": []})
    both = parse_site(
        "S",
        {
            "capacity_a": 63,
            "capacity_kw": 22,
            "groups": [{"group_id": "g", "capacity_kw": 11}],
            "stations": [],
        },
    )
    assert (three.nodes[0].capacity_a, one.nodes[0].capacity_a) == (31.8, 95.6)
    assert [n.capacity_a for n in both.nodes] == [31.8, 15.9]
