"""What every command translation shares: the context, addressing and id tokens (pure).

Addressing (OCPP 2.0.1 Part 1 §2.2 "EVSE"): ``evse_id`` and ``connector_id``. A 1.6 "connector"
is a 2.0.1 EVSE with one connector, so for 1.6 ``connectorId`` is ``evse_id`` when given (then
``connector_id`` must be absent or 1), else ``connector_id``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppj.authorization import ID_TOKEN_TYPES
from ocppj.commands.arguments import Arguments
from ocppj.versions import OcppVersion

V16 = OcppVersion.V16
TRIGGERS_16 = frozenset(
    {
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    }
)
TRIGGERS_2 = frozenset(
    {
        "BootNotification",
        "LogStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "SignChargingStationCertificate",
        "SignV2GCertificate",
        "StatusNotification",
        "TransactionEvent",
        "SignCombinedCertificate",
        "PublishFirmwareStatusNotification",
    }
)
# The same trigger under its other version's name (1.6 diagnostics = 2.x logs).
TRIGGER_NAMES_16 = {"LogStatusNotification": "DiagnosticsStatusNotification"}
TRIGGER_NAMES_2 = {"DiagnosticsStatusNotification": "LogStatusNotification"}
ATTRIBUTE_TYPES = frozenset({"Actual", "Target", "MinSet", "MaxSet"})

TokenTypes = Callable[[str], str | None]


def no_token_types(_: str) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Context:
    version: OcppVersion
    request_id: int  # remoteStartId, requestId: derived from the command id unless given
    token_types: TokenTypes = field(default=no_token_types)

    @property
    def v16(self) -> bool:
        return self.version is V16

    def only_16(self, a: Arguments, instead: str) -> None:
        if not self.v16:
            raise a.fail(f"OCPP 1.6 only; this station speaks {self.version}: use {instead}")

    def only_2(self, a: Arguments, instead: str) -> None:
        if self.v16:
            raise a.fail(f"OCPP 2.0.1 and later only; this station speaks ocpp1.6: use {instead}")


Translation = Callable[[Arguments, Context], tuple[str, dict[str, Any]]]


def no_arguments(action: str) -> Translation:
    """A command whose CALL has an empty payload in every version."""

    def translate(_: Arguments, __: Context) -> tuple[str, dict[str, Any]]:
        return action, {}

    return translate


def connector_16(a: Arguments, *, default: int | None) -> int | None:
    evse_id = a.integer("evse_id", required=False, minimum=0)
    connector_id = a.integer("connector_id", required=False, minimum=0)
    if evse_id is not None:
        if connector_id not in (None, 1):
            raise a.fail(
                "an OCPP 1.6 connector is an EVSE with one connector: give evse_id, or "
                "connector_id alone, not connector_id "
                f"{connector_id} of evse_id {evse_id}"
            )
        return evse_id
    if connector_id is not None:
        return connector_id
    if default is None:
        raise a.fail("evse_id (or, for OCPP 1.6, connector_id) is required")
    return default


def evse_2(a: Arguments, *, required: bool) -> tuple[int | None, int | None]:
    evse_id = a.integer("evse_id", required=False, minimum=0)
    connector_id = a.integer("connector_id", required=False, minimum=1)
    if evse_id is None and connector_id is not None:
        raise a.fail("OCPP 2.x addresses a connector within an EVSE: give evse_id too")
    if evse_id is None and required:
        raise a.fail("evse_id is required")
    return evse_id, connector_id


def evse_type(evse_id: int, connector_id: int | None) -> dict[str, int]:
    return {"id": evse_id} | ({} if connector_id is None else {"connectorId": connector_id})


def id_token(a: Arguments, ctx: Context, *, default_type: str) -> dict[str, str]:
    token = a.string("id_token")
    token_type = a.choice("id_token_type", ID_TOKEN_TYPES, required=False)
    return {"idToken": token, "type": token_type or ctx.token_types(token) or default_type}


def retry_policy(a: Arguments) -> dict[str, int]:
    out: dict[str, int] = {}
    retries = a.integer("retries", required=False, minimum=0)
    interval = a.integer("retry_interval_s", required=False, minimum=0)
    if retries is not None:
        out["retries"] = retries
    if interval is not None:
        out["retryInterval"] = interval
    return out
