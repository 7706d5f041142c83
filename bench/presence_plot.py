"""Plot the issue 9 figures: API start against history, and gateway failover (matplotlib).

    python -m bench.presence_plot --start docs/bench/api-start.json \
        --failover docs/bench/failover.json --out docs/bench/issue9.png
"""

import argparse
import json
from pathlib import Path
from typing import Any


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.presence_plot", description=__doc__)
    parser.add_argument("--start", type=Path, required=True)
    parser.add_argument("--failover", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    start: dict[str, Any] = json.loads(args.start.read_text())
    failover: dict[str, Any] = json.loads(args.failover.read_text())

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (start_ax, fail_ax) = plt.subplots(1, 2, figsize=(11, 4))
    labels = ["logs from the beginning\n(before)", "read-model topics\n(after)"]
    values = [start["before_median_s"], start["after_median_s"]]
    start_ax.bar(labels, values, color=["#bbbbbb", "#2a7ab0"])
    for x, runs in enumerate((start["before_s"], start["after_s"])):
        start_ax.scatter([x] * len(runs), runs, color="black", s=10, zorder=3)
    start_ax.set_ylabel("seconds until ready")
    start_ax.set_title(
        f"API start: {start['stations']:,} stations,\n{start['ended_sessions']:,} ended sessions"
    )

    medians = failover["medians"]
    phases = [
        ("api_offline_s", "offline\nin the API"),
        ("stations_v1_offline_s", "StationOffline\non stations.v1"),
        ("back_online_at_b_s", "online again\nat gateway B"),
    ]
    width = 0.38
    for shift, (name, color) in zip(
        (-width / 2, width / 2), (("sigterm", "#bbbbbb"), ("sigkill", "#c0392b")), strict=True
    ):
        xs = [n + shift for n in range(len(phases))]
        fail_ax.bar(xs, [medians[name][key] for key, _ in phases], width, color=color, label=name)
    fail_ax.axhline(30, color="black", linestyle="--", linewidth=1, label="target 30 s")
    fail_ax.set_xticks(range(len(phases)), [label for _, label in phases])
    fail_ax.set_ylabel("seconds after the gateway stopped")
    fail_ax.set_title(f"gateway failover: {failover['stations']:,} stations (lease 15 s)")
    fail_ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
