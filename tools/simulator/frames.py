"""OCPP-J frames: parse one text frame, serialise CALL/CALLRESULT/CALLERROR (pure)."""

import json
from dataclasses import dataclass, field
from typing import Any


class MalformedFrame(ValueError):
    """The text is not an OCPP-J frame (OCPP-J 1.6 §4, 2.0.1 Part 4 §4)."""


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    code: str
    description: str
    details: dict[str, Any] = field(repr=False)


Frame = Call | CallResult | CallError


def parse(text: str) -> Frame:
    """Raises: MalformedFrame: if ``text`` is not JSON or not an OCPP-J frame."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:  # deep nesting -> RecursionError
        raise MalformedFrame(f"not JSON: {exc}") from exc
    match message:
        case [2, str(unique_id), str(action), dict(payload)]:
            return Call(unique_id, action, payload)
        case [3, str(unique_id), dict(payload)]:
            return CallResult(unique_id, payload)
        case [4, str(unique_id), str(code), str(description), dict(details)]:
            return CallError(unique_id, code, description, details)
        case _:
            raise MalformedFrame(f"not an OCPP-J frame: {text[:80]!r}")


def _dumps(message: list[Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


def call_text(unique_id: str, action: str, payload: dict[str, Any]) -> str:
    return _dumps([2, unique_id, action, payload])


def result_text(unique_id: str, payload: dict[str, Any]) -> str:
    return _dumps([3, unique_id, payload])


def error_text(unique_id: str, code: str, description: str = "") -> str:
    return _dumps([4, unique_id, code, description[:255], {}])  # 2.0.1: at most 255 chars
