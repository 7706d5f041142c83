"""Allocation: limits within every capacity, minimums or 0, fair shares, priorities, stability."""

from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.loadbalance.core.allocation import PHASES, RESOLUTION, Node, Point, allocate

SITE = Node("site", 32.0)
TOLERANCE = 1e-6


def point(name: str, **fields: Any) -> Point:
    return Point(point_id=name, node=str(fields.pop("node", "site")), **fields)


# --- worked examples ------------------------------------------------------------------------


def test_the_smallest_site_shares_its_capacity_evenly() -> None:
    """{"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]} at their rated defaults."""
    limits = allocate([SITE], [point("CS-1/1"), point("CS-2/1")])
    assert limits == {"CS-1/1": 16.0, "CS-2/1": 16.0}


def test_what_an_ev_does_not_use_goes_to_the_others() -> None:
    limits = allocate([SITE], [point("A", max_a=8.0), point("B"), point("C")])
    assert limits == {"A": 8.0, "B": 12.0, "C": 12.0}


def test_when_capacity_is_short_some_pause_instead_of_all_dropping_below_the_minimum() -> None:
    """16 A for three points of 6 A minimum: two charge, the one with most energy waits."""
    site = Node("site", 16.0)
    limits = allocate(
        [site],
        [point("A", energy_wh=9000), point("B", energy_wh=1000), point("C", energy_wh=2000)],
        restart_margin_a=0,
    )
    assert limits == {"A": 0.0, "B": 8.0, "C": 8.0}


def test_a_charging_point_keeps_charging_and_a_paused_one_restarts_only_with_a_margin() -> None:
    site = Node("site", 12.5)
    first = allocate([site], [point("A"), point("B")], restart_margin_a=1.0)
    assert first == {"A": 12.5, "B": 0.0}  # B would need 6 + 1 A of headroom beside A's 6
    again = allocate([site], [point("A"), point("B", energy_wh=0)], previous=first)
    assert again == first  # no flapping
    roomier = allocate([Node("site", 13.0)], [point("A"), point("B")], previous=first)
    assert roomier == {"A": 6.5, "B": 6.5}  # 6 + 1 A fit beside A's minimum


def test_priorities_come_before_fairness() -> None:
    limits = allocate(
        [Node("site", 40.0)],
        [point("fleet-1", priority=1), point("fleet-2", priority=1), point("public")],
    )
    assert limits == {"fleet-1": 20.0, "fleet-2": 20.0, "public": 0.0}
    some = allocate(
        [Node("site", 50.0)],
        [point("fleet-1", priority=1, max_a=16), point("fleet-2", priority=1), point("public")],
    )
    assert some == {"fleet-1": 16.0, "fleet-2": 32.0, "public": 0.0}  # 2 A left: below 6


def test_a_feeder_limits_its_points_and_the_rest_goes_elsewhere() -> None:
    nodes = [Node("site", 63.0), Node("feeder", 20.0, parent="site")]
    limits = allocate(
        nodes, [point("F1", node="feeder"), point("F2", node="feeder"), point("S1"), point("S2")]
    )
    assert limits == {"F1": 10.0, "F2": 10.0, "S1": 21.5, "S2": 21.5}


def test_single_phase_points_on_different_phases_do_not_compete() -> None:
    limits = allocate(
        [Node("site", 16.0)],
        [
            point("L1", phases=frozenset({0})),
            point("L2", phases=frozenset({1})),
            point("L2b", phases=frozenset({1})),
        ],
    )
    assert limits == {"L1": 16.0, "L2": 8.0, "L2b": 8.0}


def test_what_we_cannot_control_counts_at_its_maximum() -> None:
    limits = allocate([SITE], [point("stubborn", controllable=False, max_a=16), point("A")])
    assert limits == {"stubborn": 16.0, "A": 16.0}


def test_no_session_no_current() -> None:
    assert allocate([SITE], [point("A", wants=False), point("B")]) == {"A": 0.0, "B": 32.0}


def test_a_point_under_an_unknown_node_or_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="no node 'nowhere'"):
        allocate([SITE], [point("A", node="nowhere")])
    loop = [Node("a", 10, parent="b"), Node("b", 10, parent="a")]
    with pytest.raises(ValueError, match="cycle"):
        allocate(loop, [point("A", node="a")])


# --- properties -----------------------------------------------------------------------------

capacities = st.floats(0, 80).map(lambda a: round(a, 1))


@st.composite
def sites(draw: st.DrawFn) -> tuple[list[Node], list[Point], dict[str, float]]:
    """A root, up to three groups under it (some nested), and up to twelve points."""
    nodes = [Node("site", draw(capacities))]
    for n in range(draw(st.integers(0, 3))):
        parent = draw(st.sampled_from([x.node_id for x in nodes]))
        nodes.append(Node(f"g{n}", draw(capacities), parent=parent))
    points = []
    for n in range(draw(st.integers(0, 12))):
        minimum = draw(st.sampled_from([6.0, 6.0, 8.0, 10.0]))
        points.append(
            Point(
                point_id=f"p{n}",
                node=draw(st.sampled_from([x.node_id for x in nodes])),
                phases=draw(
                    st.sampled_from([frozenset(PHASES), frozenset({0}), frozenset({1, 2})])
                ),
                min_a=minimum,
                max_a=draw(st.floats(minimum, 40).map(lambda a: round(a, 1))),
                wants=draw(st.booleans()) or draw(st.booleans()),
                controllable=draw(st.integers(0, 9)) > 0,
                priority=draw(st.integers(0, 2)),
                energy_wh=draw(st.floats(0, 50_000)),
            )
        )
    previous = {p.point_id: draw(st.sampled_from([0.0, p.min_a])) for p in points}
    return nodes, points, previous


def _paths(nodes: Sequence[Node]) -> dict[str, list[str]]:
    tree = {n.node_id: n for n in nodes}
    paths: dict[str, list[str]] = {}
    for n in nodes:
        path: list[str] = []
        current: str | None = n.node_id
        while current is not None:
            path.append(current)
            current = tree[current].parent
        paths[n.node_id] = path
    return paths


def _loads(
    nodes: Sequence[Node], points: Sequence[Point], limits: Mapping[str, float]
) -> dict[tuple[str, int], float]:
    paths, loads = _paths(nodes), dict[tuple[str, int], float]()
    for p in points:
        for n in paths[p.node]:
            for ph in p.phases:
                loads[(n, ph)] = loads.get((n, ph), 0.0) + limits[p.point_id]
    return loads


def _reserved_fit(nodes: Sequence[Node], points: Sequence[Point]) -> bool:
    fixed = {p.point_id: p.max_a if p.wants and not p.controllable else 0.0 for p in points}
    capacity = {n.node_id: n.capacity_a for n in nodes}
    return all(v <= capacity[k[0]] + TOLERANCE for k, v in _loads(nodes, points, fixed).items())


@settings(max_examples=300, deadline=None)
@given(sites())
def test_sums_stay_within_every_capacity_and_limits_are_zero_or_within_bounds(
    site: tuple[list[Node], list[Point], dict[str, float]],
) -> None:
    nodes, points, previous = site
    limits = allocate(nodes, points, previous=previous)
    capacity = {n.node_id: n.capacity_a for n in nodes}
    if _reserved_fit(nodes, points):  # what we cannot control may overload a site by itself
        for (node, _), amps in _loads(nodes, points, limits).items():
            assert amps <= capacity[node] + TOLERANCE
    for p in points:
        amps = limits[p.point_id]
        assert round(amps / RESOLUTION, 6).is_integer()
        if not p.wants:
            assert amps == 0
        elif not p.controllable:
            assert amps == p.max_a
        else:
            assert amps == 0 or p.min_a - TOLERANCE <= amps <= p.max_a + TOLERANCE


@settings(max_examples=300, deadline=None)
@given(sites())
def test_no_capacity_is_left_while_a_charging_point_could_use_more(
    site: tuple[list[Node], list[Point], dict[str, float]],
) -> None:
    """A point below its maximum loads some node phase that is full (up to the rounding to
    0.1 A of the points on it)."""
    nodes, points, previous = site
    limits = allocate(nodes, points, previous=previous)
    loads, paths = _loads(nodes, points, limits), _paths(nodes)
    capacity = {n.node_id: n.capacity_a for n in nodes}
    on = {k: sum(1 for p in points if k[0] in paths[p.node] and k[1] in p.phases) for k in loads}
    for p in points:
        amps = limits[p.point_id]
        if not p.controllable or amps == 0 or amps >= p.max_a - RESOLUTION:
            continue
        assert any(
            capacity[n] - loads[(n, ph)] <= RESOLUTION * on[(n, ph)] + TOLERANCE
            for n in paths[p.node]
            for ph in p.phases
        ), (p, limits)


@settings(max_examples=300, deadline=None)
@given(sites())
def test_a_paused_point_had_no_room_beside_those_of_its_class_and_above(
    site: tuple[list[Node], list[Point], dict[str, float]],
) -> None:
    """Priorities honoured: a point paused at 0 A could not have had its minimum (plus the
    restart margin) beside the reserved loads, what the classes above it were given, and the
    minimums of the points admitted of its own class."""
    nodes, points, previous = site
    limits = allocate(nodes, points, previous=previous, restart_margin_a=1.0)
    paths = _paths(nodes)
    capacity = {n.node_id: n.capacity_a for n in nodes}
    for p in points:
        if not (p.controllable and p.wants and limits[p.point_id] == 0 and p.max_a >= p.min_a):
            continue
        floor = {q.point_id: _before(q, p, limits[q.point_id]) for q in points}
        loads = _loads(nodes, points, floor)
        margin = 0.0 if previous.get(p.point_id, 0.0) > 0 else 1.0
        assert any(
            loads.get((n, ph), 0.0) + p.min_a + margin > capacity[n] + TOLERANCE
            for n in paths[p.node]
            for ph in p.phases
        ), (p, limits)


def _before(q: Point, paused: Point, limit: float) -> float:
    """What ``q`` held when ``paused`` was considered: reserved at its maximum; a class above
    at its limit; its own class at its minimum (if admitted); a class below nothing."""
    if not q.wants or limit == 0:
        return 0.0
    if not q.controllable or q.priority > paused.priority:
        return limit
    return q.min_a if q.priority == paused.priority else 0.0


@settings(max_examples=200, deadline=None)
@given(sites())
def test_the_same_inputs_with_their_own_result_as_before_change_nothing(
    site: tuple[list[Node], list[Point], dict[str, float]],
) -> None:
    """No flapping: allocating again from the result gives the result."""
    nodes, points, previous = site
    first = allocate(nodes, points, previous=previous)
    assert allocate(nodes, points, previous=first) == first


def test_points_of_a_class_on_the_same_node_get_equal_shares() -> None:
    limits = allocate([Node("site", 50.0)], [point(f"P{n}", energy_wh=n) for n in range(3)])
    assert limits == {"P0": 16.6, "P1": 16.6, "P2": 16.6}
