"""Benchmark (issue 14): what a process costs while nothing happens, and what it costs the broker.

Each process named by --processes is started alone on 127.0.0.1 (a new consumer group, so it
reads nothing old), left --settle seconds after /readyz, then its CPU and the local broker's are
read over --seconds; --repeats times, in turn with the same process from --tree when given (an
A/B of another checkout's code). Prints percent of a core, medians; JSON with --out.
Needs the broker at $KAFKA_BOOTSTRAP_SERVERS (deploy/local/kafka.sh start) with the topics.
    python -m bench.idle_cpu [--processes sessions gateway] [--tree /tmp/before]
"""

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.harness import (
    ROOT,
    Process,
    broker_pid,
    cpu_seconds,
    free_port,
    log,
    median,
    start_gateway,
    wait_ready,
)

SERVICES = {
    "sessions": "services.sessions",
    "billing": "services.billing",
    "loadbalance": "services.loadbalance",
}
APIS = {
    "sessions-api": "services.sessions.api",
    "billing-api": "services.billing.api",
    "loadbalance-api": "services.loadbalance.api",
}
PROCESSES = (*SERVICES, "gateway", *APIS)


def _start(name: str, root: Path, work: Path) -> tuple[Process, int]:
    """Process ``name`` from the checkout at ``root``, and the port of its /readyz."""
    http = free_port()
    log_path = work / f"{name}-{root.name}-{uuid.uuid4().hex[:6]}.log"
    if name == "gateway":
        # An inbox partition the other benchmarks leave alone (they use 10 to 12).
        return start_gateway(free_port(), log_path, instance=9, http_port=http, root=root), http
    if name in APIS:
        args = ["-m", APIS[name], "--host=127.0.0.1", f"--port={http}", "--log-level=WARNING"]
    else:
        args = ["-m", SERVICES[name], f"--group=idle-{uuid.uuid4().hex[:8]}"]
        args += ["--http-host=127.0.0.1", f"--http-port={http}", "--log-level=WARNING"]
    return Process.start(args, log_path, root), http


def measure(name: str, root: Path, settle_s: float, seconds: float, work: Path) -> dict[str, float]:
    """One idle run: percent of a core for the process and the broker."""
    process, http = _start(name, root, work)
    try:
        wait_ready(http, limit_s=120)
        time.sleep(settle_s)
        broker, pid = broker_pid(), process.popen.pid
        own, started = cpu_seconds(pid), time.monotonic()
        theirs = cpu_seconds(broker) if broker is not None else 0.0
        time.sleep(seconds)
        elapsed = time.monotonic() - started
        out = {"process_core_percent": 100 * (cpu_seconds(pid) - own) / elapsed}
        if broker is not None:
            out["broker_core_percent"] = 100 * (cpu_seconds(broker) - theirs) / elapsed
        return out
    finally:
        process.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", nargs="+", choices=PROCESSES, default=["sessions"])
    parser.add_argument("--tree", type=Path, help="another checkout, measured in turn")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after /readyz")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    trees = {"this": ROOT, **({"tree": args.tree.resolve()} if args.tree else {})}
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.processes:
            runs = results.setdefault(name, {t: [] for t in trees})
            for repeat in range(args.repeats):
                # alternate which tree goes first, so that a drift of the machine hits both
                order = list(trees) if repeat % 2 == 0 else list(reversed(trees))
                for tree in order:
                    run = measure(name, trees[tree], args.settle, args.seconds, Path(tmp))
                    runs[tree].append(run)
                    figures = ", ".join(f"{k} {v:.2f}" for k, v in run.items())
                    log(f"[{repeat + 1}/{args.repeats}] {name} ({tree}): {figures}")
    print("process | tree | its CPU, % of a core | the broker's, % of a core | runs")
    print("---|---|---|---|---")
    for name, runs in results.items():
        for tree, measured in runs.items():
            own = median([r["process_core_percent"] for r in measured])
            broker = median([r.get("broker_core_percent", float("nan")) for r in measured])
            each = ", ".join(f"{r['process_core_percent']:.1f}" for r in measured)
            print(f"{name} | {trees[tree]} | {own:.1f} | {broker:.1f} | {each}")
    if args.out:
        args.out.write_text(
            json.dumps(
                {"trees": {k: str(v) for k, v in trees.items()}, "results": results}, indent=2
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
