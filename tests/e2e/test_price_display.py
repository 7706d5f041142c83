"""Prices at the station, end to end: ocpp-library stations -> gateway -> sessions and billing
workers -> billing's costs back to the stations (2.0.1 responses and CostUpdated; 1.6 OCA
costmsg DataTransfer through the sessions API's command path)."""

import asyncio
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from ocpp.v16 import call_result as result16
from ocpp.v16.enums import ConfigurationStatus, DataTransferStatus
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import DisplayMessageStatusEnumType

from contracts.events import EventType
from contracts.payloads.billing import CdrIssued, CostQuoted
from contracts.topics import Topic
from tests.e2e.test_billing import _billing, _station_id, _tariff_for
from tests.e2e.test_sessions import (
    _define_token,
    _fresh_api,
    _now,
    _station16,
    _station201,
    call16,
    call201,
    transaction_event,
)
from tests.support.gateway import GatewayProcess, TopicTail, for_station
from tests.support.sessions import SessionsWorker
from tests.support.waiting import eventually

COSTMSG = "org.openchargealliance.costmsg"


async def test_a_201_station_is_shown_its_running_and_final_cost(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """I02 in the Updated responses and as CostUpdated, I06 the tariff text, I03 the final
    cost in the Ended response: the CDR's total incl. VAT."""
    station_id, token, tx = _station_id(), f"TOK-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    await _define_token(kafka_bootstrap, token)
    await _tariff_for(kafka_bootstrap, station_id)
    api = await _fresh_api(kafka_bootstrap, window_s=0)  # routes billing's CostUpdated
    try:
        async with (
            _billing(kafka_bootstrap, tmp_path / "billing"),
            TopicTail(kafka_bootstrap, Topic.BILLING_COSTS) as costs,
            TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
        ):
            station = await _station201(gateway, station_id)
            pushed: list[dict[str, Any]] = []

            async def on_cost_updated(**request: Any) -> Any:
                pushed.append(request)
                return result201.CostUpdated()

            station.cp.route_map["CostUpdated"] = {"_on_action": on_cost_updated}
            displayed: list[dict[str, Any]] = []

            async def on_set_display_message(**request: Any) -> Any:
                displayed.append(request)
                return result201.SetDisplayMessage(status=DisplayMessageStatusEnumType.accepted)

            station.cp.route_map["SetDisplayMessage"] = {"_on_action": on_set_display_message}
            await station.call(
                call201.BootNotification(
                    charging_station={"model": "M-201", "vendor_name": "V"}, reason="PowerUp"
                )
            )
            await eventually(lambda: api.presence.online(station_id), "presence says online", 30)
            # I01 before the session: the price on the display, and for this driver in the
            # AuthorizeResponse once the sessions worker read billing's PriceAnnounced
            await eventually(lambda: bool(displayed), "the station got SetDisplayMessage", 30)
            price = "0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"
            assert displayed[0]["message"]["message"]["content"] == price
            shown = None
            for _ in range(30):
                authorized = await station.call(
                    call201.Authorize(id_token={"id_token": token, "type": "ISO14443"})
                )
                shown = authorized.id_token_info.get("personal_message")
                if shown is not None:
                    break
                await asyncio.sleep(0.2)
            assert shown == {"format": "UTF8", "language": "en", "content": price}

            def event(event_type: str, seq_no: int, wh: float, **extra: Any) -> Any:
                return transaction_event(tx, event_type, seq_no, wh, 60, **extra)

            await station.call(
                event("Started", 0, 2000.0, id_token={"id_token": token, "type": "ISO14443"})
            )
            first = await costs.next(for_station(station_id, EventType.COST_QUOTED), 60)
            quote = CostQuoted.parse(first.envelope)
            assert quote is not None
            assert quote.incl_vat == "1.21"  # the start fee, 1.00 + 21 % VAT
            # The worker reads billing's quote a moment after it is on the topic; a station
            # sends Updated periodically: the next ones carry the running cost.
            answered = None
            for seq_no in range(1, 30):
                answered = await station.call(event("Updated", seq_no, 5000.0))
                if answered.total_cost is not None:
                    break
                await asyncio.sleep(0.2)
            assert answered is not None
            assert Decimal(str(answered.total_cost)) in (Decimal("1.21"), Decimal("2.30"))
            assert answered.updated_personal_message == {
                "format": "UTF8",
                "language": "en",
                "content": "0.36 EUR/kWh, 1.21 EUR per session, incl. VAT",
            }
            # 3 kWh: 1.00 + 0.90 = 1.90, incl. VAT 2.30, pushed by billing as CostUpdated
            await eventually(lambda: bool(pushed), "the station got CostUpdated", 30)
            assert pushed[0] == {"total_cost": 2.3, "transaction_id": tx}
            ended = await station.call(
                event("Ended", 40, 22000.0, info={"stopped_reason": "EVDisconnected"})
            )
            issued = await cdrs.next(for_station(station_id, EventType.CDR_ISSUED), 60)
            await station.close()
    finally:
        await api.stop()
    cdr = CdrIssued.parse(issued.envelope)
    assert cdr is not None
    # 20 kWh: 1.00 + 6.00 = 7.00, incl. 21 %: 8.47, in the Ended response as in the CDR
    assert cdr.cdr["total_cost"]["incl_vat"] == "8.47"
    assert Decimal(str(ended.total_cost)) == Decimal("8.47")


async def test_16_stations_get_the_oca_cost_messages_and_a_refusing_one_is_left_alone(
    kafka_bootstrap: str, gateway: GatewayProcess, sessions: SessionsWorker, tmp_path: Path
) -> None:
    """The price before a session as DefaultPrice at boot and SetUserPrice after Authorize;
    RunningCost at the start and after a meter value, FinalCost with the CDR's total. A
    station without the extension (it answers DefaultPrice NotSupported) is recorded
    (PriceDisplayRefused) and sent no cost message."""
    taking, refusing = _station_id(), _station_id()
    token = f"TOK-{uuid.uuid4().hex[:8]}"
    await _define_token(kafka_bootstrap, token)
    await _tariff_for(kafka_bootstrap, taking, refusing)
    api = await _fresh_api(kafka_bootstrap, window_s=0)
    received: dict[str, list[dict[str, Any]]] = {taking: [], refusing: []}
    configured: dict[str, list[dict[str, Any]]] = {taking: [], refusing: []}
    try:
        async with (
            _billing(kafka_bootstrap, tmp_path / "billing"),
            TopicTail(kafka_bootstrap, Topic.BILLING_COSTS) as costs,
            TopicTail(kafka_bootstrap, Topic.CDRS) as cdrs,
        ):
            stations = {}
            answers = {
                taking: DataTransferStatus.accepted,
                refusing: DataTransferStatus.unknown_vendor_id,
            }
            for station_id, status in answers.items():
                station = await _station16(gateway, station_id)

                async def on_data_transfer(
                    _id: str = station_id, _status: DataTransferStatus = status, **request: Any
                ) -> Any:
                    received[_id].append(request)
                    return result16.DataTransfer(status=_status)

                station.cp.route_map["DataTransfer"] = {"_on_action": on_data_transfer}

                async def on_change_configuration(
                    _id: str = station_id, _taking: bool = station_id == taking, **request: Any
                ) -> Any:
                    configured[_id].append(request)
                    accepted, unknown = (
                        ConfigurationStatus.accepted,
                        ConfigurationStatus.not_supported,
                    )
                    return result16.ChangeConfiguration(status=accepted if _taking else unknown)

                station.cp.route_map["ChangeConfiguration"] = {
                    "_on_action": on_change_configuration
                }
                await station.call(call16.BootNotification("M-16", "V"))
                stations[station_id] = station
            for station_id in stations:

                def online(s: str = station_id) -> bool:
                    return api.presence.online(s)

                await eventually(online, "presence says online", 30)

            async def start(station_id: str) -> int:
                started = await stations[station_id].call(
                    call16.StartTransaction(1, token, 1000, _now())
                )
                return int(started.transaction_id)

            refused = await costs.next(for_station(refusing, EventType.PRICE_DISPLAY_REFUSED), 30)
            assert refused.envelope.payload["detail"] == "NotSupported"
            await eventually(lambda: bool(configured[taking]), "DefaultPrice at boot", 30)
            for station in stations.values():
                await station.call(call16.Authorize(token))
            await eventually(lambda: bool(received[taking]), "SetUserPrice after Authorize", 30)
            ids = {station_id: await start(station_id) for station_id in stations}
            await eventually(lambda: len(received[taking]) >= 2, "RunningCost at the start", 30)
            for station_id, station in stations.items():
                meter = [{"timestamp": _now(600), "sampledValue": [{"value": "6000"}]}]
                await station.call(call16.MeterValues(1, meter, transaction_id=ids[station_id]))
                await station.call(call16.StopTransaction(11000, _now(1200), ids[station_id]))
            await eventually(lambda: len(received[taking]) >= 4, "RunningCost x2, FinalCost", 30)
            for station_id in stations:
                await cdrs.next(for_station(station_id, EventType.CDR_ISSUED), 60)
            await asyncio.sleep(2)  # what billing would still send the refusing station is here
            for station in stations.values():
                await station.close()
    finally:
        await api.stop()
    assert received[refusing] == []  # it refused the DefaultPrice at boot: no cost messages
    assert [c["key"] for c in configured[refusing]] == ["DefaultPrice"]
    assert configured[taking] == [
        {
            "key": "DefaultPrice",
            "value": '{"priceText":"0.36 EUR/kWh, 1.21 EUR per session, incl. VAT"}',
        }
    ]
    messages = [(r["vendor_id"], r["message_id"]) for r in received[taking]]
    assert messages == [
        (COSTMSG, "SetUserPrice"),
        (COSTMSG, "RunningCost"),
        (COSTMSG, "RunningCost"),
        (COSTMSG, "FinalCost"),
    ]
    user_price = json.loads(received[taking][0]["data"])
    assert user_price == {
        "idToken": token,
        "priceText": "0.36 EUR/kWh, 1.21 EUR per session, incl. VAT",
    }
    data = [json.loads(r["data"], parse_float=Decimal) for r in received[taking][1:]]
    assert [d["transactionId"] for d in data] == [ids[taking]] * 3
    # the start fee; then 5 kWh: 1.00 + 1.50 = 2.50 -> 3.025 -> 3.03; 10 kWh: 4.00 -> 4.84
    assert [d["cost"] for d in data] == [Decimal("1.21"), Decimal("3.03"), Decimal("4.84")]
    assert data[1]["meterValue"] == 6000
    assert data[1]["chargingPrice"] == {
        "kWhPrice": Decimal("0.36"),
        "hourPrice": Decimal("0.00"),
        "flatFee": Decimal("1.21"),
    }
    assert data[2]["priceText"].startswith("4.84 EUR for 10.000 kWh")
