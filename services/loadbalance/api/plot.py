"""A site's capacity and allocated current over time, as PNG bytes (matplotlib, Agg).

matplotlib is imported when a picture is asked for, not with the API: most requests are JSON.
"""

import io
from collections.abc import Mapping
from typing import Any


def allocation_png(series: Mapping[str, list[Any]], *, title: str) -> bytes:
    """Steps of the capacity in force, the local generation (PV) in it, and the allocated
    current (the most loaded phase) at each allocation; a range without allocations says so
    in the picture."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import dates, pyplot

    figure, axes = pyplot.subplots(figsize=(10, 4.5), dpi=100)
    try:
        axes.set_title(title)
        times = series["at"]
        if times:
            capacity, allocated = series["capacity_a"], series["allocated_a"]
            axes.step(times, capacity, where="post", color="#d7301f", label="capacity (A/phase)")
            generation = series["generation_a"]
            if any(generation):
                axes.step(
                    times, generation, where="post", color="#fdae61", label="PV in it (A/phase)"
                )
            axes.fill_between(
                times,
                allocated,
                step="post",
                alpha=0.4,
                color="#2b8cbe",
                label="allocated (A, most loaded phase)",
            )
            axes.legend(loc="upper left", ncols=2)
            axes.set_ylim(0, max([*capacity, *allocated, 1.0]) * 1.2)
            locator = dates.AutoDateLocator()  # type: ignore[no-untyped-call]
            axes.xaxis.set_major_locator(locator)
            formatter = dates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
            axes.xaxis.set_major_formatter(formatter)
        else:
            axes.text(
                0.5,
                0.5,
                "no allocation in this range",
                ha="center",
                va="center",
                transform=axes.transAxes,
            )
        axes.set_ylabel("A")
        axes.grid(alpha=0.3)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        pyplot.close(figure)
