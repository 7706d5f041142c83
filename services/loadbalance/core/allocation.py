"""Current limits per charging point under every capacity of a site's hierarchy (pure).

A site is a tree of nodes (the grid connection, feeders, cabinets), each with a capacity in A
per phase. A charging point (an EVSE; a 1.6 connector) hangs under one node and loads one or
three phases. ``allocate`` gives every point 0 or a limit between its minimum and its maximum
such that, on every phase of every node on the way to the root, the limits and the reserved
loads add up to at most the node's capacity (docs/loadbalance.md):

1. **Reserve** what we cannot control (no profile support, a rejected or unanswered profile,
   offline): its maximum, on its phases, at every node above it.
Then, priority class by priority class from the highest (a class takes what it can use before
the next gets anything: fleet before public, say):

2. **Admit** the class's points that want current, in order: the points that were charging
   before (no flapping: a paused point needs its minimum plus ``restart_margin_a`` of
   headroom), then the least energy delivered in the session (who got least gets power first),
   then the id. A point is admitted when its minimum fits on every phase of every node above
   it; the others pause at 0 A instead of all dropping below their minimum.
3. **Share**: the admitted points rise together from their minimum (max-min fair,
   "water-filling") until each reaches its maximum or a node phase it loads is full.

Limits are rounded down to 0.1 A (OCPP limits with more decimals are refused by some
stations, ev-server#3453), so sums never exceed a capacity.
"""

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

PHASES = (0, 1, 2)  # L1, L2, L3
RESOLUTION = 0.1  # A: limits are multiples of this
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Node:
    """A capacity in the hierarchy; ``parent`` None for the site's root (the connection)."""

    node_id: str
    capacity_a: float  # per phase
    parent: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Point:
    """A charging point (station EVSE) under ``node``: what it may draw and what it wants."""

    point_id: str  # "<station>/<evse>"
    node: str
    phases: frozenset[int] = frozenset(PHASES)  # a 1-phase point of unknown rotation: all three
    min_a: float = 6.0
    max_a: float = 32.0  # rated, or less: the EV's, a cable's, or what it measurably uses
    wants: bool = True  # a session that takes current (else it gets 0)
    controllable: bool = True  # else reserved at max_a, whatever we say
    priority: int = 0  # higher first (fleet before public, say)
    energy_wh: float = 0.0  # delivered in its session so far: less goes first when short


def allocate(
    nodes: Iterable[Node],
    points: Iterable[Point],
    *,
    previous: Mapping[str, float] | None = None,
    restart_margin_a: float = 1.0,
) -> dict[str, float]:
    """The limit (A per phase) of every point: 0, or between its minimum and maximum.

    Raises:
        ValueError: a point under a node that does not exist, or a cycle of nodes.
    """
    tree = {n.node_id: n for n in nodes}
    every = list(points)
    paths = {p.point_id: _path(tree, p.node) for p in every}
    was = previous or {}
    used: dict[tuple[str, int], float] = {}  # (node, phase) -> A taken
    limits = {p.point_id: 0.0 for p in every}
    for p in every:  # 1. reserve
        if not p.controllable and p.wants:
            _take(used, paths[p.point_id], p.phases, p.max_a)
            limits[p.point_id] = p.max_a
    wanting = [p for p in every if p.controllable and p.wants]
    for priority in sorted({p.priority for p in wanting}, reverse=True):
        admitted: list[Point] = []
        for p in sorted(
            (p for p in wanting if p.priority == priority), key=lambda p: _rank(p, was)
        ):
            margin = 0.0 if was.get(p.point_id, 0.0) > 0 else restart_margin_a  # 2. admit
            need = p.min_a + margin
            if p.max_a >= p.min_a and _fits(tree, used, paths[p.point_id], p.phases, need):
                _take(used, paths[p.point_id], p.phases, p.min_a)
                admitted.append(p)
        phases = {p.point_id: p.phases for p in admitted}
        for point_id, amps in _fill(tree, used, paths, admitted).items():  # 3. share
            limits[point_id] = math.floor(amps / RESOLUTION + EPSILON) * RESOLUTION
            # What rounding down leaves is there for the classes below
            _take(used, paths[point_id], phases[point_id], limits[point_id] - amps)
    return {k: round(v, 1) for k, v in limits.items()}


def _rank(p: Point, was: Mapping[str, float]) -> tuple[int, float, str]:
    """Within a class: those charging before first, then the least energy, then the id."""
    return (0 if was.get(p.point_id, 0.0) > 0 else 1, p.energy_wh, p.point_id)


def _path(tree: Mapping[str, Node], node_id: str) -> tuple[str, ...]:
    """The node and its ancestors up to the root."""
    path: list[str] = []
    current: str | None = node_id
    while current is not None:
        if current not in tree:
            raise ValueError(f"no node {current!r}")
        if current in path:
            raise ValueError(f"the nodes {path} form a cycle")
        path.append(current)
        current = tree[current].parent
    return tuple(path)


def _fits(
    tree: Mapping[str, Node],
    used: Mapping[tuple[str, int], float],
    path: Sequence[str],
    phases: frozenset[int],
    amps: float,
) -> bool:
    return all(
        used.get((n, ph), 0.0) + amps <= tree[n].capacity_a + EPSILON for n in path for ph in phases
    )


def _take(
    used: dict[tuple[str, int], float], path: Sequence[str], phases: frozenset[int], amps: float
) -> None:
    for n in path:
        for ph in phases:
            used[(n, ph)] = used.get((n, ph), 0.0) + amps


def _fill(
    tree: Mapping[str, Node],
    used: dict[tuple[str, int], float],
    paths: Mapping[str, tuple[str, ...]],
    points: Sequence[Point],
) -> dict[str, float]:
    """Raise ``points`` together from their minimum (already in ``used``) until each is at its
    maximum or loads a full node phase: exact progressive filling. All active points rise by the
    same amount, so a round costs the node phases, not the points: a point's level is its
    minimum plus what was raised while it was active."""
    level = {p.point_id: p.min_a for p in points}
    keys = {p.point_id: [(n, ph) for n in paths[p.point_id] for ph in p.phases] for p in points}
    on: dict[tuple[str, int], set[str]] = {}  # node phase -> the active points loading it
    for p in points:
        for key in keys[p.point_id]:
            on.setdefault(key, set()).add(p.point_id)
    room = {p.point_id: p.max_a - p.min_a for p in points}  # headroom at the start
    by_room = sorted(room, key=lambda pid: room[pid])  # all rise alike: this order holds
    active = set(room)
    raised = 0.0

    def freeze(pid: str) -> None:
        active.discard(pid)
        level[pid] += raised
        for key in keys[pid]:
            on[key].discard(pid)

    for pid in [pid for pid in by_room if room[pid] <= EPSILON]:
        freeze(pid)
    head = 0  # by_room[head] is the active point closest to its maximum
    while active:
        while by_room[head] not in active:
            head += 1
        step = room[by_room[head]] - raised
        for key, loading in on.items():
            if loading:
                step = min(step, (tree[key[0]].capacity_a - used.get(key, 0.0)) / len(loading))
        step = max(step, 0.0)
        raised += step
        for key, loading in on.items():
            used[key] = used.get(key, 0.0) + step * len(loading)
        full = [
            k for k, loading in on.items() if loading and tree[k[0]].capacity_a - used[k] <= EPSILON
        ]
        done = {pid for pid in active if room[pid] - raised <= EPSILON}
        done |= {pid for key in full for pid in on[key]}
        for pid in done:
            freeze(pid)
    return level
