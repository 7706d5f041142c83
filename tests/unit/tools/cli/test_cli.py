"""The CLI's pure parts: tables, the tail's lines and filters, the CSV, arguments, exit codes."""

from datetime import UTC, datetime

import pytest

from contracts.codec import encode
from contracts.payloads.stations import StationStatusChanged
from tools.cli import credentials, render
from tools.cli.__main__ import _arguments, exit_of, parser
from tools.cli.exits import Exit, Failure
from tools.cli.http import failure
from tools.cli.summary import Figures
from tools.cli.summary import render as summary_render
from tools.cli.tail import line, matches

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_a_table_pads_its_columns_and_reads_nested_fields() -> None:
    rows = [
        {"station_id": "CS-1", "online": True, "boot": {"vendor": "V"}, "connectors": []},
        {
            "station_id": "CS-LONGER",
            "online": False,
            "boot": None,
            "connectors": [{"evse_id": 1, "connector_id": 1, "status": "Faulted"}],
        },
    ]
    text = render.table(rows, [*render.STATIONS[:2], render.STATIONS[3], render.STATIONS[6]])
    assert text.splitlines() == [
        "STATION    ONLINE  VENDOR  CONNECTORS",
        "CS-1       yes     V",
        "CS-LONGER  no              1/1:Faulted",
    ]


def test_a_tail_line_is_the_decoded_record() -> None:
    event = StationStatusChanged(
        station_id="CS-1", evse_id=1, connector_id=1, status="Faulted", error_code=None, at=AT
    ).event()
    value = encode(event.envelope(occurred_at=AT, event_id="e1"))
    printed = line("stations.v1", 3, 42, b"CS-1", value)
    assert printed["event_type"] == "StationStatusChanged"
    assert printed["payload"]["status"] == "Faulted"
    assert printed["occurred_at"] == "2026-11-27T12:00:00.000Z"
    assert (printed["topic"], printed["partition"], printed["offset"], printed["key"]) == (
        "stations.v1",
        3,
        42,
        "CS-1",
    )
    assert line("t", 0, 1, b"k", None)["tombstone"] is True
    assert "undecodable" in line("t", 0, 1, b"k", b"\xff\x00not msgpack")
    assert matches(printed, "CS-1", "StationStatusChanged")
    assert not matches(printed, "CS-2", None)
    assert not matches(printed, None, "StationBooted")
    keyed = {"key": "CS-9/boot", "payload": {}}
    assert matches(keyed, "CS-9", None)  # no station_id in the payload: the key's station


def test_the_csv_is_checked_whole_and_never_quotes_a_password() -> None:
    good = "x" * 20
    lines = [
        "station_id,password,allowed_profiles",
        f"CS-1,{good},",
        f"CS-2,{good},1;2",
        "CS-3,short,",
        f"CS-1,{good},",
        f"CS-4,{good},0",
        f"bad:id,{good},",
    ]
    rows, errors = credentials.read_rows(lines)
    assert [r.station_id for r in rows] == ["CS-1", "CS-2"]
    assert [sorted(int(p) for p in r.profiles or ()) for r in rows] == [[], [1, 2]]
    assert [e.split(":")[0] for e in errors] == [
        "line 4 (CS-3)",
        "line 5 (CS-1)",
        "line 6 (CS-4)",
        "line 7 (bad",
    ]
    assert all("short" not in e and good not in e for e in errors)
    assert "x" * 20 not in repr(rows[0])
    _, header = credentials.read_rows(["station,secret", "a,b"])
    assert header == ["line 1: the header must name station_id and password"]


def test_command_arguments_are_json_where_they_can_be() -> None:
    args = parser().parse_args(
        ["command", "CS-1", "RemoteStart", "id_token=TAG-1", "evse_id=2", "--timeout", "5"]
    )
    assert _arguments(args) == {"id_token": "TAG-1", "evse_id": 2, "timeout_s": 5.0}
    with_json = parser().parse_args(["command", "CS-1", "Reset", "--arguments", '{"type": "Hard"}'])
    assert _arguments(with_json) == {"type": "Hard"}
    with pytest.raises(Failure) as bad:
        _arguments(parser().parse_args(["command", "CS-1", "Reset", "type"]))
    assert bad.value.code is Exit.USAGE


@pytest.mark.parametrize(
    ("result", "code"),
    [
        ({"outcome": "Answered", "status": "Accepted"}, Exit.OK),
        ({"outcome": "Answered", "status": None}, Exit.OK),
        ({"outcome": "Answered", "status": "Rejected"}, Exit.FAILED),
        ({"outcome": "CallError"}, Exit.FAILED),
        ({"outcome": "Timeout"}, Exit.FAILED),
        ({"outcome": "StationOffline"}, Exit.OFFLINE),
    ],
)
def test_an_outcome_is_an_exit_code(result: dict[str, object], code: Exit) -> None:
    assert exit_of(result) is code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, Exit.UNAUTHORIZED),
        (403, Exit.UNAUTHORIZED),
        (404, Exit.NOT_FOUND),
        (400, Exit.INVALID),
        (503, Exit.UNAVAILABLE),
    ],
)
def test_an_http_error_is_an_exit_code(status: int, code: Exit) -> None:
    assert failure(status, {"error": "X", "message": "why"}).code is code


def test_json_can_come_after_the_command() -> None:
    assert parser().parse_args(["stations", "--json"]).json is True
    assert parser().parse_args(["--json", "stations"]).json is True
    assert parser().parse_args(["stations"]).json is False


def test_the_summary_screen_says_what_it_knows_and_what_it_could_not_reach() -> None:
    figures = Figures(
        stations=10, online=7, sessions_open=3, energy_kwh=12.345, alerts_open=1, cdrs=40
    )
    figures.sites.append({"site_id": "DEMO-SITE", "allocated_a": 47.6, "capacity_a": 80.0})
    figures.errors.append("billing API: 6: unreachable")
    assert summary_render(figures, "12:00:00").splitlines() == [
        "  as of 12:00:00",
        "  stations   7 online of 10",
        "  sessions   3 open, 12.3 kWh so far",
        "  alerts     1 open",
        "  CDRs       40",
        "  site DEMO-SITE  48 A allocated of 80 A",
        "  error      billing API: 6: unreachable",
    ]
    assert "? online of ?" in summary_render(Figures(), "12:00:00")
