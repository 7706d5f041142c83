"""Request bodies of the billing API read into what goes on billing.tariffs.v1 (pure)."""

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from contracts.payloads.billing import Scope, TariffAssigned, TariffDefined
from services.billing.api.core import errors
from services.billing.core.book import TariffBook, tariff_from_json
from services.billing.core.ocpi_json import dumps
from services.billing.core.tariff import InvalidTariff

MAX_ID = 36  # OCPI CiString(36)


def tariff_definition(tariff_id: str, body: Mapping[str, Any]) -> TariffDefined:
    """The TariffDefined for ``PUT /tariffs/{tariff_id}``: an OCPI 2.2.1 Tariff object, read
    with decimal numbers; ``id`` may be left out (the path's), else must equal it.

    Raises:
        InvalidTariff: the object breaks OCPI 2.2.1 or our rules (docs/billing.md).
    """
    if not 0 < len(tariff_id) <= MAX_ID or not tariff_id.isprintable():
        raise errors.InvalidTariff(f"tariff_id must be 1 to {MAX_ID} printable characters")
    obj = {**body, "id": body.get("id", tariff_id)}
    if obj["id"] != tariff_id:
        raise errors.InvalidTariff(f"id {obj['id']!r} is not the path's {tariff_id!r}")
    text = dumps(obj)
    try:  # the text the followers read: parsed once here, then from the cache
        tariff_from_json(text)
    except InvalidTariff as exc:
        raise errors.InvalidTariff(str(exc)) from None
    return TariffDefined(tariff_id=tariff_id, ocpi_json=text)


def assignment(
    scope: Scope, target: str | None, body: Mapping[str, Any], book: TariffBook
) -> TariffAssigned:
    """The TariffAssigned for ``PUT /tariff-assignments/...``: ``{"tariff_id": ID}`` or
    ``{"tariff_ids": [ID, ...]}`` (the first valid at a session's start applies), and
    ``time_zone`` (IANA) if the stations' times of day are not the billing service's default.

    Raises:
        InvalidAssignment: no tariff named, one that does not exist, unknown fields, a time
            zone that is not an IANA name.
    """
    unknown = sorted(set(body) - {"tariff_id", "tariff_ids", "time_zone"})
    if unknown:
        raise errors.InvalidAssignment(f"unknown field {', '.join(unknown)}")
    one, many = body.get("tariff_id"), body.get("tariff_ids")
    if (one is None) == (many is None):
        raise errors.InvalidAssignment("give either tariff_id or tariff_ids")
    ids = [one] if many is None else many
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise errors.InvalidAssignment("tariff_ids must be a non-empty list of tariff ids")
    missing = [i for i in ids if i not in book.tariffs]
    if missing:
        raise errors.InvalidAssignment(f"no tariff {', '.join(map(repr, missing))}: PUT it first")
    time_zone = body.get("time_zone")
    if time_zone is not None:
        if not isinstance(time_zone, str):
            raise errors.InvalidAssignment("time_zone must be an IANA time zone name")
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise errors.InvalidAssignment(f"{time_zone!r} is not an IANA time zone") from None
    return TariffAssigned(scope=scope, target=target, tariff_ids=tuple(ids), time_zone=time_zone)


def assignment_json(a: TariffAssigned) -> dict[str, Any]:
    """An assignment as the API shows it: ``target`` is the station, site or token group
    (``station_id`` repeats it for a station, as before there were other scopes)."""
    return {
        "scope": str(a.scope),
        "target": a.target,
        "station_id": a.target if a.scope is Scope.STATION else None,
        "tariff_ids": list(a.tariff_ids),
        "time_zone": a.time_zone,
    }


def assigned_to(book: TariffBook, tariff_id: str) -> list[str]:
    """The assignments (keys) that list ``tariff_id``."""
    return sorted(key for key, a in book.assignments.items() if tariff_id in a.tariff_ids)
