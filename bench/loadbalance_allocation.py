"""Benchmark (issue 12): allocation time for one site of 1,000 points and for 10,000 sites.

After a capacity event every point of a site gets a new limit from ``allocate`` (pure, one
core). Sites: a grid connection, 10 feeders, 100 cabinets; points of one or three phases, 16
or 32 A, two priority classes, a tenth that we cannot control. The connection's capacity is
what a capacity drop leaves: about a quarter of the points pause, the rest charge at their
minimum. A second site shows the filling's worst case (room for all, every maximum another).
Baseline in the same run: the naive share (capacity / points, no minimums, no hierarchy).
Medians of --repeats, process CPU time.
    python -m bench.loadbalance_allocation [--points 1000] [--sites 10000] [--repeats 5]
"""

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from bench.harness import log
from services.loadbalance.core.allocation import PHASES, Node, Point, allocate


def site(points: int, seed: int, prefix: str = "") -> tuple[list[Node], list[Point]]:
    rng = random.Random(seed)
    feeders = max(1, points // 100)
    cabinets = max(1, points // 10)
    root = Node(f"{prefix}site", 6.0 * points * 1.3)
    nodes = [root] + [
        Node(f"{prefix}f{i}", 6.0 * points / feeders * 1.7, parent=root.node_id)
        for i in range(feeders)
    ]
    nodes += [
        Node(f"{prefix}c{i}", 170.0, parent=f"{prefix}f{i % feeders}") for i in range(cabinets)
    ]
    many = [
        Point(
            point_id=f"{prefix}p{i}",
            node=f"{prefix}c{i % cabinets}",
            phases=frozenset(PHASES) if rng.random() < 0.7 else frozenset({i % 3}),
            max_a=rng.choice([16.0, 32.0]),
            controllable=rng.random() >= 0.1,
            priority=1 if rng.random() < 0.2 else 0,
            energy_wh=rng.random() * 30_000,
        )
        for i in range(points)
    ]
    return nodes, many


def spread(points: int, seed: int) -> tuple[list[Node], list[Point]]:
    """The filling's worst case: room for everyone, every point with another maximum (6 to 32
    A), so that the points reach their maximum one by one, a round each."""
    rng = random.Random(seed)
    nodes, _ = site(points, seed)
    roomy = [replace(n, capacity_a=n.capacity_a * 4) for n in nodes]
    cabinets = max(1, points // 10)
    many = [
        Point(point_id=f"p{i}", node=f"c{i % cabinets}", max_a=round(6 + rng.random() * 26, 1))
        for i in range(points)
    ]
    return roomy, many


def naive(nodes: list[Node], points: list[Point]) -> dict[str, float]:
    share = nodes[0].capacity_a / max(len(points), 1)
    return {p.point_id: min(p.max_a, share) for p in points}


def timed(run: Callable[[], object]) -> float:
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--site-points", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    big, roomy = site(args.points, 1), spread(args.points, 2)
    many = [site(args.site_points, n, prefix=f"s{n}-") for n in range(args.sites)]
    runs: dict[str, list[float]] = {
        "big": [], "big_naive": [], "spread": [], "spread_naive": [], "many": [], "many_naive": [],
    }  # fmt: skip
    for repeat in range(args.repeats):
        runs["big"].append(timed(lambda: allocate(*big)))
        runs["big_naive"].append(timed(lambda: naive(*big)))
        runs["spread"].append(timed(lambda: allocate(*roomy)))
        runs["spread_naive"].append(timed(lambda: naive(*roomy)))
        runs["many"].append(timed(lambda: [allocate(*s) for s in many]))
        runs["many_naive"].append(timed(lambda: [naive(*s) for s in many]))
        log(
            f"run {repeat + 1}/{args.repeats}: one site of {args.points} points "
            f"{runs['big'][-1] * 1000:.1f} ms (short), {runs['spread'][-1] * 1000:.1f} ms "
            f"(roomy, spread maxima); {args.sites} sites {runs['many'][-1]:.2f} s"
        )
    limits = allocate(*big)
    paused = sum(1 for p in big[1] if p.controllable and limits[p.point_id] == 0)
    medians = {k: statistics.median(v) for k, v in runs.items()}
    report = {
        "points": args.points,
        "sites": args.sites,
        "site_points": args.site_points,
        "paused_in_big_site": paused,
        "cpu_seconds_median": medians,
        "big_site_ms": round(medians["big"] * 1000, 2),
        "spread_site_ms": round(medians["spread"] * 1000, 2),
        "many_sites_s": round(medians["many"], 3),
        "ratio_to_naive": {
            "big": round(medians["big"] / medians["big_naive"], 1),
            "spread": round(medians["spread"] / medians["spread_naive"], 1),
            "many": round(medians["many"] / medians["many_naive"], 1),
        },
    }
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, "w") as out:
            json.dump({"runs": runs, **report}, out, indent=2)


if __name__ == "__main__":
    main()
