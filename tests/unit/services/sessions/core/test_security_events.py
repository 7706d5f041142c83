"""SecurityEventNotification becomes SecurityEventReported: the 2.0.1 name, the 2.0.1
criticality for both versions, the station's time (pure)."""

from datetime import UTC, datetime

import pytest

from contracts.events import EventType
from contracts.payloads.ocpp import Reply
from contracts.payloads.security_events import SecurityEventReported
from contracts.topics import Topic
from ocppj.versions import OcppVersion
from tests.unit.services.sessions.core.station import V16, V201, Station


def _reported(version: OcppVersion, payload: dict[str, str]) -> SecurityEventReported:
    station = Station(version=version)
    station.boot()
    step = station.call("SecurityEventNotification", payload)
    assert step.reply == Reply({})
    (event,) = step.events
    assert (event.topic, event.event_type) == (Topic.STATIONS, EventType.SECURITY_EVENT_REPORTED)
    reported = SecurityEventReported.parse(event.envelope())
    assert reported is not None
    return reported


def test_a_tamper_alarm_is_critical_at_the_stations_time_with_its_detail() -> None:
    reported = _reported(
        V201,
        {
            "type": "TamperDetectionActivated",
            "timestamp": "2026-11-26T03:04:05Z",
            "techInfo": "lid",
        },
    )
    assert (reported.type, reported.critical, reported.tech_info) == (
        "TamperDetectionActivated",
        True,
        "lid",
    )
    assert reported.at == datetime(2026, 11, 26, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "named", "critical"),
    [
        ("InvalidCentralSystemCertificate", "InvalidCsmsCertificate", True),  # 1.6S: not critical
        ("FailedToAuthenticationAtCentralSystem", "FailedToAuthenticateAtCsms", False),
        ("InvalidFirmwareSignature", "InvalidFirmwareSignature", True),
        ("CSRGenerationFailed", "CSRGenerationFailed", False),  # a vendor's type, kept
    ],
)
def test_16_spellings_get_their_201_name_and_criticality(
    sent: str, named: str, critical: bool
) -> None:
    reported = _reported(V16, {"type": sent, "timestamp": "2026-11-26T03:04:05Z"})
    assert (reported.type, reported.reported_type, reported.critical) == (named, sent, critical)
    assert reported.ocpp_version == "ocpp1.6"
