"""Payload validation for the in-process responder: none, the `ocpp` library's, or ours.

The benchmarks' baseline is "a plain in-process websockets server that validates" (issue 14):
what a Python CSMS built on the `ocpp` library does, validating every CALL it receives and every
answer it sends (``ocpp``), or the same with chargebus's compiled validators (``chargebus``).
A CALL that fails is answered with the CALLERROR code the validator gives.
"""

from collections.abc import Callable
from typing import Any

import ocpp.exceptions
import ocpp.messages

from ocppj.errors import OcppError, wire_code
from ocppj.validation import Validator
from ocppj.versions import OcppVersion
from tools.simulator.payloads import Version

# Checks one payload: (version, action, payload, is_response) -> a CALLERROR code, or None.
Check = Callable[[Version, str, dict[str, Any], bool], str | None]
CHECKS = ("none", "ocpp", "chargebus")

ocpp.messages.ASYNC_VALIDATION = False  # validate inline: the coroutine never awaits


def library_validate(message: ocpp.messages.Call | ocpp.messages.CallResult, version: str) -> None:
    """The `ocpp` library's ``validate_payload`` run inline (it is a coroutine that never awaits
    with ASYNC_VALIDATION off; bench/validation.py times it too).

    Raises:
        ocpp.exceptions.OCPPError: the payload is invalid.
    """
    coroutine = ocpp.messages.validate_payload(message, version)
    try:
        coroutine.send(None)
    except StopIteration:
        return
    finally:
        coroutine.close()
    raise RuntimeError("validate_payload awaited: ASYNC_VALIDATION must be False")


def _library(version: Version, action: str, payload: dict[str, Any], response: bool) -> str | None:
    message = (
        ocpp.messages.CallResult("1", payload, action=action)
        if response
        else ocpp.messages.Call("1", action, payload)
    )
    try:
        library_validate(message, version.value)
    except ocpp.exceptions.OCPPError as exc:
        return str(getattr(exc, "code", "GenericError"))  # each subclass sets its code
    return None


def _ours() -> Check:
    versions = {Version.V16: OcppVersion.V16, Version.V201: OcppVersion.V201}
    validators = {ours: Validator(theirs) for ours, theirs in versions.items()}

    def check(version: Version, action: str, payload: dict[str, Any], response: bool) -> str | None:
        validator = validators[version]
        try:
            if response:
                validator.validate_response(action, payload, outgoing=True)
            else:
                validator.validate_request(action, payload)
        except OcppError as exc:
            return wire_code(exc.code, versions[version])
        return None

    return check


def check_named(name: str) -> Check | None:
    """The check ``name`` (one of CHECKS) stands for; None for "none"."""
    if name == "ocpp":
        return _library
    if name == "chargebus":
        return _ours()
    if name == "none":
        return None
    raise ValueError(f"unknown validation {name!r}: one of {', '.join(CHECKS)}")
