"""Operator commands, said once and version-neutrally, as the station's OCPP CALL (pure).

``translate("Reset", {"type": "Soft"}, OcppVersion.V201, command_id=...)`` returns
``OutgoingCall("Reset", "Reset", {"type": "OnIdle"})``; anything that cannot be translated, or a
payload the OCPP schema of that version refuses, raises InvalidCommand with a message that says
what is wrong. Arguments are snake_case; the OCPP payloads they become are camelCase. docs/api.md
lists every command with its arguments and the CALL each version gets; the translations live in
control.py, management.py, smart_charging.py and device_management.py, what they share in
context.py.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ocppj.commands import (
    certificates,
    control,
    device_management,
    management,
    smart_charging,
)
from ocppj.commands.arguments import Arguments, InvalidCommand
from ocppj.commands.context import Context, TokenTypes, no_token_types
from ocppj.errors import OcppError
from ocppj.validation import Validator
from ocppj.versions import OcppVersion


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """What the station gets: the OCPP action and its payload, for one version."""

    command: str  # the canonical, version-neutral name ("RemoteStart")
    action: str  # the OCPP action ("RequestStartTransaction")
    payload: dict[str, Any]


def request_id_for(command_id: str) -> int:
    """A positive int32 derived from the command id: the same command id, the same payload."""
    digest = hashlib.sha256(command_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF or 1


_TRANSLATIONS = (
    control.TRANSLATIONS
    | management.TRANSLATIONS
    | smart_charging.TRANSLATIONS
    | device_management.TRANSLATIONS
    | certificates.TRANSLATIONS
)
COMMANDS: tuple[str, ...] = tuple(sorted(_TRANSLATIONS))
# OCPP action names a caller may use instead of the neutral command name.
ALIASES = {
    "RemoteStartTransaction": "RemoteStart",
    "RequestStartTransaction": "RemoteStart",
    "RemoteStopTransaction": "RemoteStop",
    "RequestStopTransaction": "RemoteStop",
    "GetDiagnostics": "GetLog",
}


def canonical(command: str) -> str:
    """The neutral command name for ``command`` or one of its aliases.

    Raises:
        InvalidCommand: if there is no such command.
    """
    name = ALIASES.get(command, command)
    if name not in _TRANSLATIONS:
        raise InvalidCommand(f"unknown command {command!r}; one of {', '.join(COMMANDS)}")
    return name


@cache
def _validator(version: OcppVersion) -> Validator:
    return Validator(version)


def translate(
    command: str,
    arguments: Mapping[str, Any],
    version: OcppVersion,
    *,
    command_id: str,
    token_types: TokenTypes = no_token_types,
) -> OutgoingCall:
    """The CALL that carries out ``command`` on a station of ``version``.

    ``token_types`` gives the IdTokenEnumType of a known id token (the token store), used when
    the caller does not say ``id_token_type``.

    Raises:
        InvalidCommand: unknown command, an argument that is missing, unknown or of the wrong
            type, a command the version does not have, or a payload the strict OCPP schema of
            ``version`` refuses.
    """
    name = canonical(command)
    args = Arguments(name, arguments, InvalidCommand)
    context = Context(version, request_id_for(command_id), token_types)
    action, payload = _TRANSLATIONS[name](args, context)
    args.done()
    try:
        _validator(version).validate_request(action, payload, outgoing=True)
    except OcppError as exc:
        raise InvalidCommand(f"{name}: {exc.description}") from exc
    return OutgoingCall(name, action, payload)
