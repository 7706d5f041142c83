"""Simulated stations (`python -m tools.simulator`) as a subprocess of a test (I/O)."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.gateway import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def simulated(
    gateway: GatewayProcess, prefix: str, log: Path, *, version: str, connectors: int = 1
) -> Iterator[None]:
    """One simulated station ``<prefix>00001`` without sessions of its own, for up to 90 s or
    until the block ends; its output in ``log``."""
    argv = [
        sys.executable,
        "-m",
        "tools.simulator",
        f"--url={gateway.url}",
        "--stations=1",
        f"--prefix={prefix}",
        f"--version={version}",
        "--no-sessions",
        f"--connectors={connectors}",
        "--duration=90",
        "--quiet",
    ]
    with log.open("w") as output:
        process = subprocess.Popen(argv, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        try:
            yield
        finally:
            process.terminate()
            process.wait(10)
