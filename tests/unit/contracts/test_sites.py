"""Sites, capacities and allocations on their topics: written and read back exactly."""

from datetime import UTC, datetime

import pytest

from contracts.codec import decode, encode
from contracts.errors import RecordRejected
from contracts.events import EventType
from contracts.payloads.sites import CapacityChanged, LimitsAllocated, SiteDefined

AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_site_with_its_document_round_trips() -> None:
    document = {"capacity_a": 32, "phases": 3, "stations": ["CS-1", "CS-2"]}
    site = SiteDefined(site_id="S1", stations=("CS-1", "CS-2"), capacity_a=32, document=document)
    assert SiteDefined.parse(decode(encode(site.envelope()))) == site


def test_a_site_under_another_key_or_with_bad_stations_is_refused() -> None:
    envelope = SiteDefined(site_id="S1", stations=("CS-1",)).envelope()
    with pytest.raises(RecordRejected):
        SiteDefined.parse(envelope.caused(EventType.SITE_DEFINED, envelope.payload, key="S2"))
    with pytest.raises(RecordRejected):
        SiteDefined.parse(
            envelope.caused(EventType.SITE_DEFINED, {**envelope.payload, "stations": "CS-1"})
        )


def test_capacity_and_allocations_round_trip() -> None:
    capacity = CapacityChanged(site_id="S1", limit_a=16.0, valid_from=AT, source="DSO")
    assert CapacityChanged.parse(decode(encode(capacity.envelope()))) == capacity
    limits = LimitsAllocated(
        site_id="S1", at=AT, capacity_a=16.0, limits=(("CS-1", 1, 8.0), ("CS-2", 1, 8.0))
    )
    assert LimitsAllocated.parse(decode(encode(limits.envelope()))) == limits


def test_a_negative_capacity_is_no_capacity() -> None:
    bad = CapacityChanged(site_id="S1", limit_a=-1.0, valid_from=AT).envelope()
    assert CapacityChanged.parse(bad) is None
