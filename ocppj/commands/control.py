"""Translations of the remote-control commands, for 1.6 and 2.x (pure).

Transactions, reset, unlock, availability, triggers, reservations, cache, running cost,
display messages and data transfer (OCPP 2.0.1 functional blocks B, C, F, G, H, I, O, P).
"""

from typing import Any

from ocppj.commands.arguments import Arguments
from ocppj.commands.context import (
    TRIGGER_NAMES_2,
    TRIGGER_NAMES_16,
    TRIGGERS_2,
    TRIGGERS_16,
    Context,
    Translation,
    connector_16,
    evse_2,
    evse_type,
    id_token,
    no_arguments,
)


def remote_start(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    profile = a.mapping("charging_profile", required=False)
    if ctx.v16:
        a.ignore("id_token_type", "remote_start_id")
        payload: dict[str, Any] = {"idTag": a.string("id_token")}
        connector_id = connector_16(a, default=-1)
        if connector_id != -1:
            payload["connectorId"] = connector_id
        action = "RemoteStartTransaction"
    else:
        remote_start_id = a.integer("remote_start_id", required=False, minimum=0)
        payload = {
            "idToken": id_token(a, ctx, default_type="Central"),
            "remoteStartId": ctx.request_id if remote_start_id is None else remote_start_id,
        }
        evse_id, _ = evse_2(a, required=False)
        if evse_id is not None:
            payload["evseId"] = evse_id
        action = "RequestStartTransaction"
    if profile is not None:
        payload["chargingProfile"] = profile
    return action, payload


def remote_stop(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    value = a.anything("transaction_id")
    if value is None:
        raise a.fail("transaction_id is required")
    if ctx.v16:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise a.fail(f"transaction_id must be a string or an integer, got {value!r}")
        try:
            number = int(value)
        except ValueError:
            raise a.fail(f"OCPP 1.6 transaction ids are integers, got {value!r}") from None
        return "RemoteStopTransaction", {"transactionId": number}
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise a.fail(f"transaction_id must be a string or an integer, got {value!r}")
    return "RequestStopTransaction", {"transactionId": str(value)}


def reset(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    kind = a.choice("type", {"Hard", "Soft"})
    if ctx.v16:
        if a.has("evse_id"):
            raise a.fail("OCPP 1.6 resets the whole station: evse_id is not supported")
        return "Reset", {"type": kind}
    # 2.0.1 B11/B12: Immediate ~ 1.6 Hard (stop transactions now), OnIdle ~ Soft.
    payload: dict[str, Any] = {"type": "Immediate" if kind == "Hard" else "OnIdle"}
    evse_id = a.integer("evse_id", required=False, minimum=0)
    if evse_id is not None:
        payload["evseId"] = evse_id
    return "Reset", payload


def unlock_connector(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    if ctx.v16:
        return "UnlockConnector", {"connectorId": connector_16(a, default=None)}
    evse_id, connector_id = evse_2(a, required=True)
    return "UnlockConnector", {"evseId": evse_id, "connectorId": connector_id or 1}


def change_availability(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    status = a.choice("status", {"Operative", "Inoperative"})
    if ctx.v16:
        return "ChangeAvailability", {"connectorId": connector_16(a, default=0), "type": status}
    payload: dict[str, Any] = {"operationalStatus": status}
    evse_id, connector_id = evse_2(a, required=False)
    if evse_id is not None:
        payload["evse"] = evse_type(evse_id, connector_id)
    return "ChangeAvailability", payload


def trigger_message(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    message = a.string("message")
    if ctx.v16:
        message = TRIGGER_NAMES_16.get(message, message)
        if message not in TRIGGERS_16:
            raise a.fail(
                f"ocpp1.6 cannot trigger {message}; one of {', '.join(sorted(TRIGGERS_16))}"
            )
        payload: dict[str, Any] = {"requestedMessage": message}
        connector_id = connector_16(a, default=-1)
        if connector_id != -1:
            payload["connectorId"] = connector_id
        return "TriggerMessage", payload
    message = TRIGGER_NAMES_2.get(message, message)
    if message not in TRIGGERS_2:
        raise a.fail(
            f"{ctx.version} cannot trigger {message}; one of {', '.join(sorted(TRIGGERS_2))}"
        )
    payload = {"requestedMessage": message}
    evse_id, connector_id = evse_2(a, required=False)
    if evse_id is not None:
        payload["evse"] = evse_type(evse_id, connector_id)
    return "TriggerMessage", payload


def reserve_now(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    reservation_id = a.integer("reservation_id", minimum=0)
    expires_at = a.timestamp("expires_at")
    group_id = a.string("group_id", required=False)
    if ctx.v16:
        if a.has("connector_type"):
            raise a.fail("connector_type needs OCPP 2.0.1; OCPP 1.6 reserves a connector id")
        a.ignore("id_token_type")
        payload: dict[str, Any] = {
            "connectorId": connector_16(a, default=0),  # 0: any connector (1.6 §5.13)
            "expiryDate": expires_at,
            "idTag": a.string("id_token"),
            "reservationId": reservation_id,
        }
        if group_id is not None:
            payload["parentIdTag"] = group_id
        return "ReserveNow", payload
    payload = {
        "id": reservation_id,
        "expiryDateTime": expires_at,
        "idToken": id_token(a, ctx, default_type="ISO14443"),
    }
    evse_id, _ = evse_2(a, required=False)
    if evse_id is not None:
        payload["evseId"] = evse_id
    connector_type = a.string("connector_type", required=False)
    if connector_type is not None:
        payload["connectorType"] = connector_type
    if group_id is not None:
        payload["groupIdToken"] = {"idToken": group_id, "type": "Central"}
    return "ReserveNow", payload


def cancel_reservation(a: Arguments, _: Context) -> tuple[str, dict[str, Any]]:
    return "CancelReservation", {"reservationId": a.integer("reservation_id", minimum=0)}


def data_transfer(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    payload: dict[str, Any] = {"vendorId": a.string("vendor_id")}
    message_id = a.string("message_id", required=False)
    if message_id is not None:
        payload["messageId"] = message_id
    data = a.anything("data")
    if data is not None:
        if ctx.v16 and not isinstance(data, str):
            raise a.fail("OCPP 1.6 DataTransfer data must be a string (send JSON as text)")
        payload["data"] = data
    return "DataTransfer", payload


def set_display_message(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """O01/O02: a message the station shows (prices before a session, a QR code); 1.6 has
    no display messages (its price text is the OCA note's DefaultPrice configuration key)."""
    ctx.only_2(a, "ChangeConfiguration DefaultPrice (OCA costmsg)")
    content: dict[str, Any] = {"format": a.string("format", required=False) or "UTF8"}
    language = a.string("language", required=False)
    if language is not None:
        content["language"] = language
    content["content"] = a.string("content")
    message: dict[str, Any] = {
        "id": a.integer("message_id", minimum=0),
        "priority": a.string("priority", required=False) or "NormalCycle",
        "message": content,
    }
    state = a.string("state", required=False)
    if state is not None:
        message["state"] = state
    for name, field in (("start_at", "startDateTime"), ("end_at", "endDateTime")):
        moment = a.timestamp(name, required=False)
        if moment is not None:
            message[field] = moment
    transaction_id = a.string("transaction_id", required=False)
    if transaction_id is not None:
        message["transactionId"] = transaction_id
    return "SetDisplayMessage", {"message": message}


def cost_updated(a: Arguments, ctx: Context) -> tuple[str, dict[str, Any]]:
    """I02: the running cost incl. taxes of a 2.x transaction (1.6 has it only as the OCA
    costmsg DataTransfer, which is a DataTransfer command)."""
    if ctx.v16:
        raise a.fail("OCPP 1.6 has no CostUpdated; send the costmsg DataTransfer")
    total = a.anything("total_cost")
    if isinstance(total, bool) or not isinstance(total, int | float) or total < 0:
        raise a.fail(f"total_cost must be a number >= 0, got {total!r}")
    return "CostUpdated", {"totalCost": total, "transactionId": a.string("transaction_id")}


TRANSLATIONS: dict[str, Translation] = {
    "RemoteStart": remote_start,
    "RemoteStop": remote_stop,
    "Reset": reset,
    "UnlockConnector": unlock_connector,
    "ChangeAvailability": change_availability,
    "TriggerMessage": trigger_message,
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "ClearCache": no_arguments("ClearCache"),
    "DataTransfer": data_transfer,
    "CostUpdated": cost_updated,
    "SetDisplayMessage": set_display_message,
}
