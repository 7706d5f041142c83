"""deploy/local/kafka.sh: start, start again, status, stop, and a taken port (real JVM brokers)."""

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "local" / "kafka.sh"


def _free_port_pair() -> int:
    """A port p with p+1 also free (broker and controller listeners)."""
    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no free port pair")


def _script(
    *args: str, port: int, data_dir: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KAFKA_PORT": str(port), "KAFKA_DATA_DIR": str(data_dir), **extra_env}
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def second_broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[tuple[int, Path]]:
    port, data_dir = _free_port_pair(), tmp_path / "kafka"
    yield port, data_dir
    _script("stop", port=port, data_dir=data_dir)


def test_start_twice_status_and_stop(second_broker: tuple[int, Path], kafka_bootstrap: str) -> None:
    port, data_dir = second_broker
    started = _script("start", port=port, data_dir=data_dir)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}"
    socket.create_connection(("127.0.0.1", port), timeout=2).close()

    again = _script("start", port=port, data_dir=data_dir)
    assert again.returncode == 0
    assert "already running" in again.stderr

    status = _script("status", port=port, data_dir=data_dir)
    assert status.returncode == 0
    assert f"running (pid {(data_dir / 'kafka.pid').read_text().strip()})" in status.stdout

    stopped = _script("stop", port=port, data_dir=data_dir)
    assert stopped.returncode == 0
    assert "stopped" in stopped.stderr
    assert _script("status", port=port, data_dir=data_dir).returncode == 3
    # Stopping this broker left the suite's broker alone.
    host, _, main_port = kafka_bootstrap.rpartition(":")
    socket.create_connection((host, int(main_port)), timeout=2).close()


def test_a_taken_port_is_a_clear_error_and_starts_nothing(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = int(squatter.getsockname()[1])
        result = _script("start", port=port, data_dir=tmp_path / "kafka")
    assert result.returncode != 0
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert not (tmp_path / "kafka" / "kafka.pid").exists()
    assert not (tmp_path / "kafka" / "data").exists()
