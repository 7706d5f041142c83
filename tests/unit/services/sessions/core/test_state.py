"""Station state: exact round trips through plain data and msgpack, and its small helpers."""

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from services.sessions.core.state import (
    MAX_ENDED,
    Connector,
    StationState,
    Transaction,
    ended_from_list,
    seq_add,
    seq_seen,
)
from tests.unit.services.sessions.core.station import at, round_trip

texts = st.text(max_size=12)
maybe_text = st.none() | texts
# hypothesis wants naive bounds; the values it draws carry the zone
times = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
maybe_time = st.none() | times
whole = st.integers(min_value=-(2**31), max_value=2**31 - 1)
maybe_whole = st.none() | whole
maybe_float = st.none() | st.floats(allow_nan=False, allow_infinity=False)
seq_ranges = st.lists(st.integers(min_value=0, max_value=10_000), max_size=20).map(
    lambda numbers: _ranges(numbers)
)


def _ranges(numbers: list[int]) -> tuple[tuple[int, int], ...]:
    ranges: tuple[tuple[int, int], ...] = ()
    for n in numbers:
        ranges = seq_add(ranges, n)
    return ranges


connectors = st.builds(
    Connector,
    evse_id=whole,
    connector_id=whole,
    status=texts,
    error_code=maybe_text,
    at=times,
)
transactions = st.builds(
    Transaction,
    transaction_id=whole | texts,
    evse_id=maybe_whole,
    connector_id=maybe_whole,
    id_token=maybe_text,
    id_token_type=maybe_text,
    authorization_status=maybe_text,
    remote_start_id=maybe_whole,
    reservation_id=maybe_whole,
    started=st.booleans(),
    started_at=maybe_time,
    meter_start_wh=maybe_float,
    first_event_at=maybe_time,
    first_register_wh=maybe_float,
    first_register_at=maybe_time,
    energy_register_wh=maybe_float,
    energy_register_at=maybe_time,
    power_w=maybe_float,
    power_at=maybe_time,
    current_a=maybe_float,
    current_at=maybe_time,
    soc_percent=maybe_float,
    soc_at=maybe_time,
    charging_state=maybe_text,
    seq_nos=seq_ranges,
    ended=st.booleans(),
    ended_at=maybe_time,
    meter_stop_wh=maybe_float,
    stop_reason=maybe_text,
    announced=st.booleans(),
    update_pending=st.booleans(),
    end_announced=st.booleans(),
)
states = st.builds(
    StationState,
    station_id=texts,
    ocpp_version=maybe_text,
    vendor=maybe_text,
    model=maybe_text,
    serial_number=maybe_text,
    firmware_version=maybe_text,
    boot_status=maybe_text,
    boot_reason=maybe_text,
    booted_at=maybe_time,
    last_seen=maybe_time,
    online=st.booleans(),
    connection_id=maybe_text,
    gateway=maybe_whole,
    presence_at=maybe_time,
    connectors=st.lists(connectors, max_size=3).map(tuple),
    transactions=st.lists(transactions, max_size=3).map(tuple),
    ended=st.lists(transactions, max_size=3).map(tuple),
    local_list_version=maybe_whole,
    firmware_status=maybe_text,
    firmware_status_at=maybe_time,
    log_status=maybe_text,
    log_status_at=maybe_time,
)


@given(states)
def test_to_dict_from_dict_is_exact(state: StationState) -> None:
    assert StationState.from_dict(state.to_dict()) == state


@given(states)
def test_the_msgpack_round_trip_of_the_shell_is_exact(state: StationState) -> None:
    assert round_trip(state) == state


def test_from_dict_takes_defaults_ignores_unknown_keys_and_reads_times_as_utc() -> None:
    plus_one = timezone(timedelta(hours=1))
    data = {
        "station_id": "CS",
        "future_field": 1,
        "last_seen": datetime(2026, 11, 25, 9, 0, tzinfo=plus_one),
        "transactions": [
            {"transaction_id": 7, "seq_nos": [[0, 3]], "ended_at": datetime(2026, 11, 25, 8, 0)}  # noqa: DTZ001
        ],
    }
    state = StationState.from_dict(data)
    assert state.last_seen == at(0)
    assert state.last_seen is not None
    assert state.last_seen.tzinfo is UTC
    assert state.transactions == (Transaction(transaction_id=7, seq_nos=((0, 3),), ended_at=at(0)),)
    assert state.connectors == ()
    assert state.ended == ()
    assert state.to_dict()["state_version"] == 1


def test_seq_ranges_merge_and_show_gaps() -> None:
    ranges = _ranges([5, 0, 1, 3, 2, 9, 2])
    assert ranges == ((0, 3), (5, 5), (9, 9))
    assert [n for n in range(11) if seq_seen(ranges, n)] == [0, 1, 2, 3, 5, 9]
    assert seq_add(((0, 3), (5, 5)), 4) == ((0, 5),)


def test_transactions_of_both_versions_are_told_apart() -> None:
    state = StationState(station_id="CS")
    state, _ = state.store(Transaction(transaction_id=1))
    state, _ = state.store(Transaction(transaction_id="1"))
    assert state.transaction(1) == Transaction(transaction_id=1)
    assert state.transaction("1") == Transaction(transaction_id="1")
    assert state.transaction(2) is None


def test_ended_transactions_are_bounded_oldest_first() -> None:
    state = StationState(station_id="CS")
    for n in range(MAX_ENDED + 5):
        state, dropped = state.store(Transaction(transaction_id=n, ended=True, end_announced=True))
        assert dropped is None
    assert [t.transaction_id for t in state.ended] == list(range(5, MAX_ENDED + 5))


def test_open_on_finds_the_newest_open_transaction_of_an_evse() -> None:
    state = StationState(station_id="CS")
    for n, evse_id, ended in ((1, 1, False), (2, 1, False), (3, 1, True), (4, None, False)):
        state, _ = state.store(Transaction(transaction_id=n, evse_id=evse_id, ended=ended))
    found = state.open_on(1)
    assert found is not None
    assert found.transaction_id == 2
    assert state.open_on(2) is None
    assert state.open_on(None) is None  # a connector we could not read matches nothing


def test_derived_values() -> None:
    t = Transaction(transaction_id=3, first_register_wh=10.0, first_event_at=at(0), ended_at=at(90))
    assert (t.key, t.start_wh, t.start_time, t.duration_s) == ("3", 10.0, at(0), 90.0)
    assert t.energy_wh(None) is None
    assert t.energy_wh(25.0) == 15.0
    assert Transaction(transaction_id=3).duration_s is None
    assert Transaction(transaction_id=3).energy_wh(5.0) is None


@given(states)
def test_the_state_and_its_ended_transactions_round_trip_as_two_records(
    state: StationState,
) -> None:
    live = state.to_dict(with_ended=False)
    assert "ended" not in live
    ended = ended_from_list(state.ended_to_list())
    assert StationState.from_dict(live, ended=ended) == state


def test_empty_optional_fields_are_left_out_and_read_back_as_their_defaults() -> None:
    t = Transaction(transaction_id="tx-1", started=True)
    data = t.to_dict()
    assert "id_token" not in data
    assert "meter_start_wh" not in data
    assert data["started"] is True
    assert data["seq_nos"] == []
    assert Transaction.from_dict(data) == t


def test_storing_an_open_transaction_keeps_the_ended_tuple_so_no_ended_record_is_written() -> None:
    done = Transaction(transaction_id=1, ended=True, end_announced=True)
    state, _ = StationState(station_id="CS").store(done)
    assert state.ended_changed(StationState(station_id="CS"))
    assert state.ended_changed(None)
    after, _ = state.store(Transaction(transaction_id=2, started=True))
    assert after.ended is state.ended
    assert not after.ended_changed(state)
    assert not StationState(station_id="CS").ended_changed(None)
