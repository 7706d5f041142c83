"""`chargebus summary`: the whole system on one screen, redrawn every few seconds (I/O).

Stations (online of all), sessions open and their energy, open alerts, CDRs (in the billing
API's window), and per site what is allocated of its capacity; an API that cannot be reached
says so on its line instead of stopping the screen. `make run` shows it under its banner.
"""

import time
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import quote

from tools.cli.exits import Failure
from tools.cli.http import Api

# ANSI: save the cursor once, then each redraw goes back there and clears below
SAVE, RESTORE_AND_CLEAR = "\x1b[s", "\x1b[u\x1b[J"


@dataclass
class Figures:
    stations: int | None = None
    online: int | None = None
    sessions_open: int | None = None
    energy_kwh: float | None = None
    alerts_open: int | None = None
    cdrs: int | None = None
    sites: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def gather(sessions: Api, billing: Api, loadbalance: Api) -> Figures:
    figures = Figures()
    try:
        figures.stations = sessions.get("/stations?limit=1")["total"]
        figures.online = sessions.get("/stations?limit=1&online=true")["total"]
        open_sessions = sessions.get("/sessions?status=open&limit=1000")
        figures.sessions_open = open_sessions["total"]
        energy = sum(s.get("energy_wh") or 0.0 for s in open_sessions["items"])
        figures.energy_kwh = energy / 1000
        figures.alerts_open = sessions.get("/alerts?limit=1")["total"]
    except Failure as error:
        figures.errors.append(f"sessions API: {error}")
    try:
        figures.cdrs = billing.get("/cdrs?limit=1")["total"]
    except Failure as error:
        figures.errors.append(f"billing API: {error}")
    try:
        for site in loadbalance.get("/sites?limit=20")["items"]:
            figures.sites.append(
                loadbalance.get(f"/sites/{quote(site['site_id'], safe='')}/allocation")
            )
    except Failure as error:
        figures.errors.append(f"load balancing API: {error}")
    return figures


def render(figures: Figures, at: str) -> str:
    """The screen (pure)."""

    def show(value: object) -> str:
        return "?" if value is None else str(value)

    energy = "?" if figures.energy_kwh is None else f"{figures.energy_kwh:.1f} kWh"
    lines = [
        f"  as of {at}",
        f"  stations   {show(figures.online)} online of {show(figures.stations)}",
        f"  sessions   {show(figures.sessions_open)} open, {energy} so far",
        f"  alerts     {show(figures.alerts_open)} open",
        f"  CDRs       {show(figures.cdrs)}",
    ]
    for site in figures.sites:
        lines.append(
            f"  site {site.get('site_id')}  {site.get('allocated_a', 0):.0f} A allocated of "
            f"{site.get('capacity_a', 0):.0f} A"
        )
    lines += [f"  error      {error}" for error in figures.errors]
    return "\n".join(lines)


def watch(sessions: Api, billing: Api, loadbalance: Api, out: TextIO, every_s: float) -> None:
    """Redraw until Ctrl-C (KeyboardInterrupt, which the caller takes as done)."""
    out.write(SAVE)
    while True:
        try:
            figures = gather(sessions, billing, loadbalance)
        except (KeyError, TypeError, ValueError) as error:  # an answer of another shape
            figures = Figures(errors=[f"unexpected answer: {error!r}"])
        screen = render(figures, time.strftime("%H:%M:%S"))
        out.write(f"{RESTORE_AND_CLEAR}{screen}\n")
        out.flush()
        time.sleep(every_s)
