"""Tables for people, JSON for scripts: how the CLI prints what it got (pure)."""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Column = tuple[str, Callable[[Mapping[str, Any]], object]]


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """A plain-text table: a header, then one line per row, columns padded to fit."""
    cells = [[cell(get(row)) for _, get in columns] for row in rows]
    headers = [name for name, _ in columns]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def as_json(document: object) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def field(*path: str) -> Callable[[Mapping[str, Any]], object]:
    """A column that reads ``path`` into nested objects (missing: empty)."""

    def get(row: Mapping[str, Any]) -> object:
        value: object = row
        for name in path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(name)
        return value

    return get


def connectors(row: Mapping[str, Any]) -> str:
    found = row.get("connectors") or []
    return " ".join(f"{c.get('evse_id')}/{c.get('connector_id')}:{c.get('status')}" for c in found)


STATIONS: list[Column] = [
    ("STATION", field("station_id")),
    ("ONLINE", field("online")),
    ("OCPP", field("ocpp_version")),
    ("VENDOR", field("boot", "vendor")),
    ("MODEL", field("boot", "model")),
    ("FIRMWARE", field("boot", "firmware_version")),
    ("CONNECTORS", connectors),
]
SESSIONS: list[Column] = [
    ("SESSION", field("session_id")),
    ("STATUS", field("status")),
    ("TOKEN", field("id_token")),
    ("STARTED", field("started_at")),
    ("ENDED", field("ended_at")),
    ("KWH", lambda s: None if s.get("energy_wh") is None else s["energy_wh"] / 1000),
]
ALERTS: list[Column] = [
    ("SEVERITY", field("severity")),
    ("KIND", field("kind")),
    ("STATION", field("station_id")),
    ("SINCE", field("raised_at")),
    ("SUMMARY", field("summary")),
]
TARIFFS: list[Column] = [
    ("TARIFF", field("id")),
    ("CURRENCY", field("currency")),
    ("TYPE", field("type")),
    ("UPDATED", field("last_updated")),
]
SITES: list[Column] = [
    ("SITE", field("site_id")),
    ("CAPACITY_A", field("document", "capacity_a")),
    ("CAPACITY_KW", field("document", "capacity_kw")),
    ("STATIONS", lambda s: len(field("document", "stations")(s) or [])),  # type: ignore[arg-type]
]
