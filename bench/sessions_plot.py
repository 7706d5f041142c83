"""Plot sessions benchmark results (JSON from bench.sessions_throughput --out) side by side.

    python -m bench.sessions_plot LABEL=FILE [LABEL=FILE ...] --out docs/bench/sessions.png \
        [--target-p99-ms 100]

One group of bars per file: answered messages/s (left) and the p50/p99 round trip (right, log
scale; after the warm-up where the file has it, else over the whole run), medians of its runs.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.harness import median

TARGET_P99_MS = 100


def _figures(results: dict[str, Any]) -> tuple[float, float, float]:
    runs = results["load"]["chargebus"]
    steady = all("steady_p99_ms" in r for r in runs)
    prefix = "steady_" if steady else ""
    rate = "steady_per_s" if steady else "answered_per_s"
    return (
        median([r[rate] for r in runs]),
        median([r[f"{prefix}p50_ms"] for r in runs]),
        median([r[f"{prefix}p99_ms"] for r in runs]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sessions_plot", description=__doc__)
    parser.add_argument("runs", nargs="+", metavar="LABEL=FILE")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--target-p99-ms",
        type=float,
        default=TARGET_P99_MS,
        help="the p99 line drawn (issue 4's 100 ms; issue 14 asks 25)",
    )
    args = parser.parse_args(argv)
    labels, figures = [], []
    for item in args.runs:
        label, _, file = item.partition("=")
        labels.append(label.replace("\\n", "\n"))
        figures.append(_figures(json.loads(Path(file).read_text())))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rate_ax, latency_ax) = plt.subplots(1, 2, figsize=(10, 4))
    xs = range(len(labels))
    rate_ax.bar(xs, [f[0] for f in figures], color="tab:blue")
    rate_ax.axhline(2000, color="tab:red", linestyle="--", label="target 2,000/s")
    rate_ax.set_ylabel("answered messages/s")
    width = 0.4
    latency_ax.bar([x - width / 2 for x in xs], [f[1] for f in figures], width, label="p50")
    latency_ax.bar([x + width / 2 for x in xs], [f[2] for f in figures], width, label="p99")
    latency_ax.axhline(args.target_p99_ms, color="tab:red", linestyle="--", label="target p99")
    latency_ax.set_yscale("log")
    latency_ax.set_ylabel("round trip (ms)")
    for ax in (rate_ax, latency_ax):
        ax.set_xticks(list(xs), labels, fontsize=8)
        ax.grid(True, axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Station messages through gateway + sessions worker + Kafka, 2 cores")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    for label, (rate, p50, p99) in zip(labels, figures, strict=True):
        print(f"{label.replace(chr(10), ' ')}: {rate:,.0f}/s  p50 {p50:.1f} ms  p99 {p99:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
