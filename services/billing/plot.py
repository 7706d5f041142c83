"""The daily report as a picture: energy and revenue per day, as PNG bytes (matplotlib, Agg).

matplotlib is imported when a picture is asked for, not with the API: most requests are JSON.
"""

import io
from collections import defaultdict
from decimal import Decimal

from services.billing.api.core.reports import Row


def daily_png(rows: list[Row], *, title: str) -> bytes:
    """Bars of energy (kWh) per day, and revenue incl. VAT per day and currency, from the
    ``report(..., by="day")`` rows; a report without rows says so in the picture."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    days = sorted({row.key for row in rows})
    energy: dict[str, Decimal] = defaultdict(Decimal)
    revenue: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        energy[row.key] += row.energy_kwh
        revenue[row.currency][row.key] += row.revenue_incl_vat
    figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(10, 6), sharex=True, dpi=100)
    try:
        figure.suptitle(title)
        positions = list(range(len(days)))
        top.bar(positions, [float(energy[d]) for d in days], color="#2b8cbe")
        top.set_ylabel("energy (kWh)")
        width = 0.8 / max(len(revenue), 1)
        for n, (currency, per_day) in enumerate(sorted(revenue.items())):
            offset = (n - (len(revenue) - 1) / 2) * width
            bottom.bar(
                [p + offset for p in positions],
                [float(per_day.get(d, Decimal(0))) for d in days],
                width=width,
                label=currency,
            )
        bottom.set_ylabel("revenue incl. VAT")
        if revenue:
            bottom.legend(loc="upper left")
        bottom.set_xticks(positions, days, rotation=45, ha="right")
        if not days:
            top.text(0.5, 0.5, "no CDRs in this range", ha="center", va="center",
                     transform=top.transAxes)  # fmt: skip
        for axes in (top, bottom):
            axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        pyplot.close(figure)
