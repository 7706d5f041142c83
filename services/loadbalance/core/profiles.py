"""Which charging profile carries a limit to a station, as command arguments (pure).

- A session's limit: a **TxProfile** on its EVSE for its transaction, stack level 1, profile
  id ``TX_PROFILE_BASE + evse`` (a new limit replaces the profile in place, never
  clear-then-set: that would leave the EVSE unlimited for a moment), Absolute from a start in
  the past, with a bounded ``validTo`` (``TX_VALID_FOR``) so that a limit cannot outlive a
  silent load balancer by much; the station then falls back to its default.
- The **safe default** every station gets at boot and whenever its site changes: a
  TxDefaultProfile on EVSE 0 (all EVSEs), stack level 0, profile id ``DEFAULT_PROFILE_ID``,
  no end: the share of the site each of its EVSEs can count on when all charge (the site's
  capacity over its EVSEs, capped at the rating, see ``safe_limit``), so a station that loses
  its connection stays under the site's capacity.

The arguments are those of the version-neutral SetChargingProfile (ocppj/commands), which
checks them against the station's OCPP version.
"""

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ocppj.timestamps import rfc3339
from services.loadbalance.core.topology import Site, StationSpec

TX_PROFILE_BASE = 1000  # + the EVSE id: one TxProfile per EVSE, replaced in place
DEFAULT_PROFILE_ID = 1
TX_STACK_LEVEL, DEFAULT_STACK_LEVEL = 1, 0
TX_VALID_FOR = timedelta(hours=24)


def tx_profile(
    *,
    evse_id: int,
    transaction_id: str,
    limit_a: float,
    now: datetime,
    later: Sequence[tuple[datetime, float]] = (),
) -> dict[str, Any]:
    """SetChargingProfile arguments for a session's limit, and the ``later`` periods of its
    plan (from when, A per phase), if it has one."""
    start = now - timedelta(minutes=1)  # "in the past": no gap on replace
    shape: dict[str, Any] = {"limit": limit_a}
    if later:
        shape = {
            "periods": [{"start_s": 0, "limit": limit_a}]
            + [
                {"start_s": int((at - start).total_seconds()), "limit": amps}
                for at, amps in later
                if at < now + TX_VALID_FOR
            ]
        }
    return {
        "purpose": "TxProfile",
        "evse_id": evse_id,
        "profile_id": TX_PROFILE_BASE + evse_id,
        "stack_level": TX_STACK_LEVEL,
        "transaction_id": transaction_id,
        "kind": "Absolute",
        "start_at": rfc3339(start),
        "valid_to": rfc3339(now + TX_VALID_FOR),
        "unit": "A",
        **shape,
    }


def safe_limit(site: Site, station: StationSpec) -> float:
    """What each EVSE of ``station`` may draw when the CSMS is out of reach: its node's and
    every ancestor's capacity shared among all the EVSEs below it, the smallest share on its
    way, capped at the rating; 0 when that share is below the minimum (an overload is worse
    than a station that waits: docs/loadbalance.md)."""
    return safe_limits(site)[station.station_id]


def safe_limits(site: Site) -> dict[str, float]:
    """``safe_limit`` of every station of the site, in one pass over its nodes."""
    tree = {n.node_id: n for n in site.nodes}
    evses: dict[str, int] = dict.fromkeys(tree, 0)  # below each node, itself included
    for station in site.stations:
        node_id: str | None = station.node
        while node_id is not None:
            evses[node_id] += station.evses
            node_id = tree[node_id].parent
    share_at: dict[str, float] = {}  # the smallest share from a node up to the root

    def share(node_id: str) -> float:
        if node_id not in share_at:
            node = tree[node_id]
            own = node.capacity_a / max(evses[node_id], 1)
            share_at[node_id] = own if node.parent is None else min(own, share(node.parent))
        return share_at[node_id]

    limits = {}
    for station in site.stations:
        amps = math.floor(min(station.rated_a, share(station.node)) * 10 + 1e-9) / 10
        limits[station.station_id] = amps if amps >= station.min_a else 0.0
    return limits


def default_profile(
    site: Site, station: StationSpec, *, now: datetime, limit_a: float | None = None
) -> dict[str, Any]:
    """SetChargingProfile arguments for a station's safe default (``limit_a``: its
    ``safe_limit``, when known already)."""
    return {
        "purpose": "TxDefaultProfile",
        "evse_id": 0,
        "profile_id": DEFAULT_PROFILE_ID,
        "stack_level": DEFAULT_STACK_LEVEL,
        "kind": "Absolute",
        "start_at": rfc3339(now - timedelta(minutes=1)),
        "unit": "A",
        "limit": safe_limit(site, station) if limit_a is None else limit_a,
    }
