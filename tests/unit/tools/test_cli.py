"""The command line and the split across processes (no sockets)."""

from pathlib import Path

import pytest

from tools.simulator.__main__ import build_parser, config_from
from tools.simulator.payloads import Version
from tools.simulator.processes import split
from tools.simulator.runner import ConfigError, SimulatorConfig, basic_auth


def parse(*argv: str) -> SimulatorConfig:
    return config_from(build_parser().parse_args(list(argv)))


def test_defaults_are_local_and_bounded() -> None:
    config = parse()
    assert config.url == "ws://127.0.0.1:9000/ocpp"
    assert config.duration_s == 30.0
    assert config.station_ids()[:2] == ["SIM00001", "SIM00002"]
    assert config.behaviour.sessions
    config.check()


def test_options_reach_the_config(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret-s3cret-16\n")
    config = parse(
        "--stations", "4", "--version", "mixed", "--no-sessions", "--heartbeat-override", "0",
        "--password-file", str(secret), "--expect-accepted", "all", "--id-token", "A",
        "--id-token", "B", "--rate", "50", "--reconnect-storm", "3", "--prefix", "X-",
    )  # fmt: skip
    assert config.password == "s3cret-s3cret-16"
    assert "s3cret" not in repr(config)
    assert config.expect_accepted == 4
    assert config.behaviour.id_tokens == ("A", "B")
    assert config.behaviour.heartbeat_override_s == 0.0
    assert not config.behaviour.sessions
    assert [config.version_of(i) for i in range(4)] == [Version.V16, Version.V201] * 2
    assert config.uri("X-00001") == "ws://127.0.0.1:9000/ocpp/X-00001"
    assert (config.rate, config.reconnect_storm_at_s) == (50.0, 3.0)


def test_urls_and_credentials() -> None:
    config = SimulatorConfig(url="ws://127.0.0.1:1/cs/{station_id}/ws")
    assert config.uri("RDAM 123") == "ws://127.0.0.1:1/cs/RDAM%20123/ws"
    assert basic_auth("CS1", "pw") == "Basic Q1MxOnB3"


@pytest.mark.parametrize(
    "config",
    [
        SimulatorConfig(version="1.5"),
        SimulatorConfig(stations=0),
        SimulatorConfig(url="http://127.0.0.1/ocpp"),
        SimulatorConfig(cafile="ca.pem"),  # ws:// has no TLS
        SimulatorConfig(url="wss://127.0.0.1/ocpp", cafile="/nonexistent/ca.pem"),
        SimulatorConfig(rate_action="Authorize"),
    ],
)
def test_bad_configs_are_refused(config: SimulatorConfig) -> None:
    with pytest.raises(ConfigError):
        config.check()


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tools.simulator.__main__ import main

    with pytest.raises(SystemExit) as exit_:
        main(["--expect-accepted", "most"])
    assert exit_.value.code == 2
    assert "--expect-accepted" in capsys.readouterr().err


def test_split_keeps_station_numbers_and_shares_the_rates() -> None:
    config = SimulatorConfig(
        stations=10, first_index=1, connect_rate=100, rate=1000, expect_accepted=10
    )
    parts = split(config, 3)
    assert [p.stations for p in parts] == [4, 3, 3]
    assert [p.first_index for p in parts] == [1, 5, 8]
    ids = [i for p in parts for i in p.station_ids()]
    assert ids == config.station_ids()
    assert sum(p.connect_rate for p in parts) == pytest.approx(100)
    assert sum(p.rate or 0 for p in parts) == pytest.approx(1000)
    assert len({p.seed for p in parts}) == 3
    assert all(p.expect_accepted is None for p in parts)
    assert [p.version_of(0) for p in split(SimulatorConfig(stations=4, version="mixed"), 2)] == [
        Version.V16,
        Version.V16,  # SIM00001 and SIM00003
    ]
