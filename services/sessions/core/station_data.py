"""Station messages with data but no session: meters outside transactions, DataTransfer (pure)."""

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.fields import text, whole
from contracts.payloads.data_transfer import DataTransferReceived
from contracts.payloads.ocpp import Reply, StationCall
from contracts.payloads.station_meters import MeterValuesReported
from ocppj.timestamps import parse_timestamp
from services.sessions.core.meter import DEFAULT_CONTEXT, DEFAULT_MEASURAND, decimal_of, scaled
from services.sessions.core.state import StationState
from services.sessions.core.step import Context, Step

DEFAULT_LOCATION = "Outlet"  # 1.6 and 2.0.1 SampledValue default


def samples(meter_values: object) -> list[dict[str, Any]]:
    """Every numeric sampledValue of a list of MeterValue (1.6 and 2.0.1 alike), as a sample:
    {at, measurand, value, unit, phase, location, context}; 2.0.1's unit multiplier applied."""
    if not isinstance(meter_values, Sequence):
        return []
    out = []
    for meter_value in meter_values:
        if not isinstance(meter_value, Mapping):
            continue
        at = parse_timestamp(meter_value.get("timestamp"))
        sampled_values = meter_value.get("sampledValue")
        if at is None or not isinstance(sampled_values, Sequence):
            continue
        for sampled in sampled_values:
            if not isinstance(sampled, Mapping) or sampled.get("format") == "SignedData":
                continue
            number = decimal_of(sampled.get("value"))
            unit_of_measure = sampled.get("unitOfMeasure")  # 2.0.1
            if isinstance(unit_of_measure, Mapping):
                unit, multiplier = (
                    text(unit_of_measure, "unit"),
                    whole(unit_of_measure, "multiplier"),
                )
            else:
                unit, multiplier = text(sampled, "unit"), None
            value = None if number is None else scaled(number, multiplier or 0)
            if value is None:
                continue
            out.append(
                {
                    "at": at,
                    "measurand": text(sampled, "measurand") or DEFAULT_MEASURAND,
                    "value": value,
                    "unit": unit,
                    "phase": text(sampled, "phase"),
                    "location": text(sampled, "location") or DEFAULT_LOCATION,
                    "context": text(sampled, "context") or DEFAULT_CONTEXT,
                }
            )
    return out


def meter_values_reported(call: StationCall, evse_id: int | None) -> MeterValuesReported | None:
    """The MeterValuesReported of a MeterValues that is about no transaction; None if it has
    no numeric sample."""
    found = samples(call.payload.get("meterValue"))
    if not found:
        return None
    return MeterValuesReported(
        station_id=call.station_id,
        evse_id=evse_id or 0,
        samples=found,
        ocpp_version=str(call.ocpp_version),
    )


def meter_values_201(state: StationState, call: StationCall, ctx: Context) -> Step:
    """2.0.1 MeterValues (J01): never about a transaction; evseId 0 is the main meter."""
    reported = meter_values_reported(call, whole(call.payload, "evseId"))
    return Step(state=state, reply=Reply({}), events=[] if reported is None else [reported.event()])


def data_transfer(state: StationState, call: StationCall, ctx: Context) -> Step:
    """1.6 §4.3 / 2.0.1 P01: no vendor extension is registered, so the station hears
    UnknownVendorId; the data is written as DataTransferReceived all the same."""
    vendor_id = text(call.payload, "vendorId")
    reply = Reply({"status": "UnknownVendorId"})
    if vendor_id is None:
        return Step(state=state, reply=reply)
    received = DataTransferReceived(
        station_id=call.station_id,
        vendor_id=vendor_id,
        at=call.received_at,
        message_id=text(call.payload, "messageId"),
        data=call.payload.get("data"),
        ocpp_version=str(call.ocpp_version),
    )
    return Step(state=state, reply=reply, events=[received.event()])
