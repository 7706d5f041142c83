"""The cap of what a point may draw, and the decreases-first path between two allocations."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.loadbalance.core.allocation import Node, Point, allocate
from services.loadbalance.core.demand import max_current
from services.loadbalance.core.transition import between, stages
from tests.unit.services.loadbalance.core.test_allocation import _loads, _reserved_fit, sites


def test_an_ev_using_less_is_capped_near_what_it_uses_and_lifted_when_it_ramps_up() -> None:
    assert max_current(32, min_a=6) == 32
    assert max_current(32, min_a=6, ev_max_a=16) == 16
    assert max_current(32, min_a=6, measured_a=10, limit_a=32) == 12  # 10 A + 20 %
    assert max_current(32, min_a=6, measured_a=2, limit_a=32) == 6  # never below its minimum
    assert max_current(32, min_a=6, measured_a=15, limit_a=16) == 32  # near its limit: lifted
    assert max_current(32, min_a=6, measured_a=0, limit_a=0) == 32  # paused: nothing to judge


def test_decreases_go_first_and_increases_after() -> None:
    old, new = {"A": 16.0, "B": 16.0, "C": 0.0}, {"A": 10.0, "B": 16.0, "C": 6.0}
    assert stages(old, new) == ({"A": 10.0}, {"C": 6.0})
    assert between(old, new) == {"A": 10.0, "B": 16.0, "C": 0.0}


@settings(max_examples=200, deadline=None)
@given(sites(), st.floats(0.1, 1.5))
def test_no_node_phase_is_overloaded_at_any_step_of_a_capacity_change(
    site: tuple[list[Node], list[Point], dict[str, float]], factor: float
) -> None:
    """Old limits under the old capacity, new ones under the new: while only the decreases
    are applied, every node phase is within both."""
    nodes, points, previous = site
    old = allocate(nodes, points, previous=previous)
    changed = [Node(n.node_id, round(n.capacity_a * factor, 1), n.parent) for n in nodes]
    new = allocate(changed, points, previous=old)
    if not (_reserved_fit(nodes, points) and _reserved_fit(changed, points)):
        return  # what we cannot control overloads by itself: nothing to prove
    mid = between(old, new)
    capacity = {
        n.node_id: min(n.capacity_a, c.capacity_a) for n, c in zip(nodes, changed, strict=True)
    }
    for (node, _), amps in _loads(nodes, points, mid).items():
        assert amps <= capacity[node] + 1e-6
