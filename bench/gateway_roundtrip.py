"""Benchmark (b): station CALL -> gateway -> Kafka -> echo service -> Kafka -> station.

At fixed offered loads (MeterValues CALLs per second across many stations), beside a baseline
measured in the same run: the simulator's in-process responder, a websockets server that answers
the same frames with no Kafka. Prints a table of medians and ratios; writes JSON and a plot.
Needs the broker at $KAFKA_BOOTSTRAP_SERVERS (deploy/local/kafka.sh start) with the topics.
    python -m bench.gateway_roundtrip [--loads 250,500,1000,2000] [--repeats 3]
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.harness import (
    Process,
    cpu_seconds,
    free_port,
    log,
    median,
    simulate,
    start_gateway,
    wait_port,
)

TARGETS = ("baseline", "chargebus")


def _run_load(url: str, load: int, stations: int, duration_s: float) -> dict[str, Any]:
    return simulate(
        [
            f"--url={url}",
            f"--stations={stations}",
            "--connect-rate=2000",
            "--no-sessions",
            "--heartbeat-override=3600",
            f"--rate={load}",
            "--rate-action=MeterValues",
            f"--duration={duration_s}",
            "--version=1.6",
        ],
        limit_s=duration_s + 120,
    )


def _figures(summary: dict[str, Any]) -> dict[str, float]:
    latency = summary["tally"]["latency"].get("MeterValues", {})
    window = summary["load_window_s"] or float("nan")
    return {
        "answered_per_s": latency.get("count", 0) / window,
        "p50_ms": latency.get("p50_ms", float("nan")),
        "p99_ms": latency.get("p99_ms", float("nan")),
        "skipped": summary["tally"]["load_skipped"],
        "errors": sum(summary["tally"]["errors"].values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gateway_roundtrip",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    parser.add_argument("--loads", default="250,500,1000,2000", help="offered CALLs/s")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--stations", type=int, default=400)
    parser.add_argument("--duration", type=float, default=14.0, help="seconds per run")
    parser.add_argument("--gateway-args", default="", help="extra gateway options")
    parser.add_argument("--instance", type=int, default=12, help="gateway inbox partition")
    parser.add_argument("--out", type=Path, help="write the results as JSON")
    parser.add_argument("--plot", type=Path, help="write a PNG of latency against load")
    args = parser.parse_args(argv)
    loads = [int(x) for x in args.loads.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-roundtrip-"))
    port, http_port, baseline_port = free_port(), free_port(), free_port()
    gateway = start_gateway(
        port,
        work / "gateway.log",
        instance=args.instance,
        http_port=http_port,
        extra=args.gateway_args.split(),
    )
    echo = Process.start(["-m", "bench.echo_service"], work / "echo.log")
    baseline = Process.start(
        ["-m", "tools.simulator.responder", "--port", str(baseline_port)], work / "baseline.log"
    )
    results: dict[str, dict[int, list[dict[str, float]]]] = {
        t: {n: [] for n in loads} for t in TARGETS
    }
    try:
        wait_port(port)
        wait_port(baseline_port)
        echo.wait_line("ready")
        urls = {
            "baseline": f"ws://127.0.0.1:{baseline_port}/ocpp",
            "chargebus": f"ws://127.0.0.1:{port}/ocpp",
        }
        for repeat in range(args.repeats):
            for load in loads:
                for target in TARGETS:
                    pid = gateway.popen.pid if target == "chargebus" else baseline.popen.pid
                    before = cpu_seconds(pid)
                    figures = _figures(_run_load(urls[target], load, args.stations, args.duration))
                    figures["server_cpu_s"] = cpu_seconds(pid) - before
                    results[target][load].append(figures)
                    log(
                        f"[{repeat + 1}/{args.repeats}] {target:<9} offered {load:>5}/s: "
                        f"{figures['answered_per_s']:7.0f}/s  p50 {figures['p50_ms']:6.2f} ms  "
                        f"p99 {figures['p99_ms']:7.2f} ms  skipped {figures['skipped']}  "
                        f"errors {figures['errors']}"
                    )
    finally:
        for process in (gateway, echo, baseline):
            process.stop()
    report = _report(results, loads)
    print(report)
    if args.out:
        args.out.write_text(json.dumps({"loads": loads, "results": results}, indent=1))
    if args.plot:
        _plot(results, loads, args.plot)
    return 0


def _med(runs: list[dict[str, float]], key: str) -> float:
    return median([r[key] for r in runs])


def _report(results: dict[str, dict[int, list[dict[str, float]]]], loads: list[int]) -> str:
    lines = [
        "offered/s | baseline answered/s p50 p99 ms | chargebus answered/s p50 p99 ms | "
        "p50 ratio | p99 ratio | errors",
        "---|---|---|---|---|---",
    ]
    for load in loads:
        b, c = results["baseline"][load], results["chargebus"][load]
        errors = sum(r["errors"] + r["skipped"] for r in c)
        lines.append(
            f"{load} | {_med(b, 'answered_per_s'):.0f} / {_med(b, 'p50_ms'):.2f} / "
            f"{_med(b, 'p99_ms'):.2f} | {_med(c, 'answered_per_s'):.0f} / "
            f"{_med(c, 'p50_ms'):.2f} / {_med(c, 'p99_ms'):.2f} | "
            f"{_med(c, 'p50_ms') / _med(b, 'p50_ms'):.1f}x | "
            f"{_med(c, 'p99_ms') / _med(b, 'p99_ms'):.1f}x | {errors}"
        )
    return "\n".join(lines)


def _plot(
    results: dict[str, dict[int, list[dict[str, float]]]], loads: list[int], path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for target, style in (("baseline", "--"), ("chargebus", "-")):
        for key, marker in (("p50_ms", "o"), ("p99_ms", "s")):
            values = [_med(results[target][n], key) for n in loads]
            ax.plot(loads, values, style, marker=marker, label=f"{target} {key[:3]}")
    ax.set_xlabel("offered load (MeterValues CALLs/s)")
    ax.set_ylabel("round trip (ms)")
    ax.set_yscale("log")
    ax.set_title("Station round trip: gateway + Kafka vs in-process baseline")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    sys.exit(main())
