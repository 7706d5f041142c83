"""A scripted CSMS for station unit tests, checking every payload against the OCA schemas."""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema  # no stubs (pyproject: ignore_missing_imports): used through Any

from tools.simulator.answers import Csms
from tools.simulator.frames import Call, CallError, CallResult, call_text, parse, result_text
from tools.simulator.payloads import Version
from tools.simulator.schemas import DIRECTORIES, schema_name
from tools.simulator.station import Station

EPOCH_S = 1_750_000_000.0  # wall clock at now=0
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def _date_time(value: object) -> bool:
    """RFC 3339 with a zone, which jsonschema only checks with an extra package."""
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value)
    return RFC3339.fullmatch(value) is not None


FORMATS: Any = jsonschema.FormatChecker(formats=())
FORMATS.checks("date-time", raises=ValueError)(_date_time)


@cache
def _validator(version: Version, name: str) -> Any:
    """Draft4Validator (1.6) or Draft6Validator (2.0.1), checking date-time formats."""
    path = files("ocpp").joinpath(DIRECTORIES[version], f"{name}.json")
    schema = json.loads(path.read_text())
    return jsonschema.validators.validator_for(schema)(schema, format_checker=FORMATS)


def assert_valid(version: Version, action: str, payload: dict[str, Any], *, response: bool) -> None:
    """Raises: jsonschema.ValidationError: if ``payload`` breaks the OCA schema."""
    _validator(version, schema_name(version, action, response=response)).validate(payload)


@dataclass(frozen=True, slots=True)
class Sent:
    at: float
    unique_id: str
    action: str
    payload: dict[str, Any]


class Peer:
    """Answers the station's CALLs at once with ``answers.Csms``; records what it sent."""

    def __init__(self, station: Station, csms: Csms | None = None, *, answering: bool = True):
        self.station, self.csms, self.answering = station, csms or Csms(), answering
        self.sent: list[Sent] = []
        self.replies: list[CallResult | CallError] = []  # to our own CSMS CALLs
        self.now = 0.0

    def pump(self, now: float) -> list[Sent]:
        """Collect (and answer) everything the station sends at ``now``."""
        self.now, collected = now, []
        while texts := self.station.data_to_send():
            for text in texts:
                frame = parse(text)
                if not isinstance(frame, Call):
                    assert isinstance(frame, CallResult | CallError)
                    self.replies.append(frame)
                    continue
                assert_valid(self.station.version, frame.action, frame.payload, response=False)
                sent = Sent(now, frame.unique_id, frame.action, frame.payload)
                collected.append(sent)
                if self.answering:
                    self.answer(sent, now)
        self.sent.extend(collected)
        return collected

    def answer(self, sent: Sent, now: float, payload: dict[str, Any] | None = None) -> None:
        """Answer ``sent`` with ``payload``, or with what the CSMS model answers."""
        version = self.station.version
        if payload is None:
            payload = self.csms.answer(version, sent.action, sent.payload, EPOCH_S + now)
            assert payload is not None, sent.action
        assert_valid(version, sent.action, payload, response=True)
        self.station.receive_text(result_text(sent.unique_id, payload), now)

    def run_until(self, until: float) -> list[Sent]:
        """Advance time deadline by deadline, answering at once; returns what was sent."""
        start = len(self.sent)
        self.station.handle_timer(self.now)
        self.pump(self.now)
        while (deadline := self.station.next_deadline()) is not None and deadline <= until:
            self.now = max(self.now, deadline)
            self.station.handle_timer(self.now)
            self.pump(self.now)
        self.now = until
        return self.sent[start:]

    def call(self, action: str, payload: dict[str, Any]) -> CallResult | CallError:
        """Send a CSMS CALL (checked against its schema) and return the station's reply."""
        version = self.station.version
        assert_valid(version, action, payload, response=False)
        self.station.receive_text(call_text(f"csms-{len(self.replies)}", action, payload), self.now)
        before = len(self.replies)
        self.pump(self.now)
        reply = self.replies[before]
        if isinstance(reply, CallResult):
            assert_valid(version, action, reply.payload, response=True)
        return reply

    def actions(self, sent: list[Sent] | None = None) -> list[str]:
        return [s.action for s in (self.sent if sent is None else sent)]
