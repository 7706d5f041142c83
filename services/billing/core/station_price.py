"""The price a station shows before a session, announced at boot and when it changes (pure).

Billing reads stations.v1 beside the sessions. At a station's BootNotification, and at any later
station event when the station's price in words has changed (a new tariff assigned, or one
whose start time has come), billing writes PriceAnnounced on billing.costs.v1 and shows it:

- OCPP 2.0.1 O01 SetDisplayMessage, message id ``DISPLAY_MESSAGE_ID`` (a message with the same
  id replaces the one before), priority NormalCycle;
- OCPP 1.6, the OCA note's ``DefaultPrice`` configuration key (ChangeConfiguration), the text a
  station shows before and, offline, instead of a driver's price; and after each accepted
  Authorize (TokenAuthorized on sessions.v1) the note's ``SetUserPrice``: that driver's price,
  which a token group's contract may make another.

A station's record also holds until when it refused cost messages (station_costs.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from contracts.events import DomainEvent
from contracts.payloads.authorizations import TokenAuthorized
from contracts.payloads.billing import PriceAnnounced
from ocppj.timestamps import utc
from ocppj.versions import OcppVersion
from services.billing.core.book import TariffBook
from services.billing.core.display import COSTMSG, price_text
from services.billing.core.ocpi_json import dumps
from services.billing.core.station_costs import CostMessages, Display, station_command

DISPLAY_MESSAGE_ID = 1  # the id of our price message on a 2.0.1 station
DEFAULT_PRICE = "DefaultPrice"  # the OCA note's 1.6 configuration key


@dataclass(frozen=True, slots=True, kw_only=True)
class Station:
    """What billing keeps per station: its version, what it was shown, any refusal."""

    ocpp_version: str | None = None
    shown: str | None = None  # the price text last announced
    messages: int = 0  # price messages sent to it, for their ids
    retry_at: datetime | None = None  # it refused cost messages; none before then

    def refused(self, now: datetime) -> bool:
        return self.retry_at is not None and now < self.retry_at

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Station":
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("retry_at") is not None:
            values["retry_at"] = utc(values["retry_at"])
        return cls(**values)


def announce(
    station_id: str,
    station: Station,
    *,
    book: TariffBook,
    now: datetime,
    zone: ZoneInfo,
    show: Display,
    booted: bool,
) -> tuple[Station, list[DomainEvent]]:
    """The station's price now; announced and shown when it changed, or when the station
    booted (it may have forgotten it)."""
    if not show.quotes or station.ocpp_version is None:
        return station, []
    choice = book.choose(station_id, now)
    text, language = price_text(choice.tariff, at=now, zone=zone)
    if text == station.shown and not booted:
        return station, []
    tariff_id = None if choice.tariff is None else choice.tariff.id
    events = [PriceAnnounced(station_id=station_id, price_text=text, language=language,
                             tariff_id=tariff_id, at=now).event()]  # fmt: skip
    station = replace(station, shown=text)
    v16 = station.ocpp_version == OcppVersion.V16
    told = show.messages == CostMessages.ALL or (show.messages == CostMessages.V201 and not v16)
    if not told or station.refused(now):
        return station, events
    arguments: dict[str, object]
    if v16:
        command = "ChangeConfiguration"
        arguments = {"key": DEFAULT_PRICE, "value": dumps({"priceText": text})}
    else:
        command = "SetDisplayMessage"
        arguments = {"message_id": DISPLAY_MESSAGE_ID, "content": text, "language": language}
    name = f"{station_id}/price/{station.messages}"
    events.append(station_command(station_id, name, command, arguments, now=now))
    return replace(station, messages=station.messages + 1), events


def user_price(
    station_id: str,
    station: Station,
    authorized: TokenAuthorized,
    *,
    book: TariffBook,
    zone: ZoneInfo,
    show: Display,
) -> list[DomainEvent]:
    """The OCA note's SetUserPrice for a 1.6 driver just authorized: "Authorize.req/conf, then
    SetUserPrice for that idToken" (display only)."""
    now = authorized.at
    if authorized.status != "Accepted" or authorized.ocpp_version != OcppVersion.V16:
        return []
    if not show.quotes or show.messages != CostMessages.ALL or station.refused(now):
        return []
    choice = book.choose(station_id, now, authorized.id_token)
    text, _ = price_text(choice.tariff, at=now, zone=zone)
    data = dumps({"idToken": authorized.id_token, "priceText": text})
    name = f"{station_id}/user-price/{authorized.id_token}/{now.isoformat()}"
    arguments = {"vendor_id": COSTMSG, "message_id": "SetUserPrice", "data": data}
    return [station_command(station_id, name, "DataTransfer", arguments, now=now)]
