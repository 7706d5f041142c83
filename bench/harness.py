"""Shared benchmark plumbing: processes on 127.0.0.1, simulator runs, topics watched from a
thread, medians, CPU (I/O)."""

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from contracts.codec import decode
from contracts.envelope import Envelope
from contracts.topics import SPECS, Topic
from runtime.settings import bootstrap_servers

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    """Progress on stderr, so that stdout stays the report."""
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_port(port: int, limit_s: float = 30) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit_s}s")


def wait_ready(port: int, limit_s: float = 300) -> float:
    """Until the process with /readyz on ``port`` is ready (a worker restores its state first:
    the longer, the more stations earlier runs left on the broker); how long that took."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return time.monotonic() - started
        except OSError:  # refused while starting, HTTP 503 while not ready
            pass
        time.sleep(0.2)
    raise RuntimeError(f"/readyz on 127.0.0.1:{port} not ready after {limit_s}s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def busy_cores() -> tuple[float, float]:
    """The machine's busy and total CPU seconds so far, over all cores (/proc/stat): the
    difference of two readings is how many cores were busy in between."""
    with open("/proc/stat", encoding="ascii") as stat:
        jiffies = [int(v) for v in stat.readline().split()[1:]]
    idle = jiffies[3] + jiffies[4]  # idle, iowait
    return (sum(jiffies) - idle) / CLOCK_TICKS, sum(jiffies) / CLOCK_TICKS / (os.cpu_count() or 1)


def scraped(port: int) -> dict[str, float]:
    """From a process's /metrics: its collections by generation, their total time, and how
    many took longer than 10 ms; a stateful worker's batches (``batches``: how many requests
    its records shared)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("chargebus_") and "_batch_seconds_count" in line:
            out["batches"] = out.get("batches", 0.0) + float(line.rsplit(" ", 1)[1])
        if not line.startswith("chargebus_gc_pause_seconds"):
            continue
        name, value = line.rsplit(" ", 1)
        generation = name.split('generation="')[1][0]
        if name.startswith("chargebus_gc_pause_seconds_count"):
            out[f"gc{generation}_count"] = float(value)
        elif name.startswith("chargebus_gc_pause_seconds_sum"):
            out[f"gc{generation}_ms"] = float(value) * 1000
        elif 'le="0.01"' in name:
            out[f"gc{generation}_le10ms"] = float(value)
    for generation in "012":
        within = out.pop(f"gc{generation}_le10ms", 0)
        out[f"gc{generation}_over10ms"] = out.get(f"gc{generation}_count", 0) - within
    return out


def cpu_stalled_s() -> float:
    """Seconds so far in which at least one runnable task waited for a core (Linux PSI,
    /proc/pressure/cpu "some"): the difference of two readings over the wall time between them
    is the share of time the machine had more work than cores."""
    with open("/proc/pressure/cpu", encoding="ascii") as pressure:
        some = pressure.readline().split()
    return int(some[-1].removeprefix("total=")) / 1e6


def waited_s(pid: int) -> float:
    """Seconds the threads of ``pid`` were runnable but waited for a core (schedstat's run-queue
    time, summed over threads): time added to every message the process held meanwhile."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):  # a thread that just ended
            continue
    return total / 1e9


def jvm_pauses(pid: int) -> dict[str, float]:
    """The JVM's collections so far (jstat -gc: young and full, count and seconds); empty
    without jstat (a JRE)."""
    try:
        out = subprocess.run(
            ["jstat", "-gc", str(pid)], capture_output=True, text=True, timeout=10, check=True
        ).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return {}
    row = dict(zip(out[0].split(), out[1].split(), strict=False))
    names = {"YGC": "young_gcs", "YGCT": "young_gc_s", "FGC": "full_gcs", "FGCT": "full_gc_s"}
    return {ours: float(row[theirs]) for theirs, ours in names.items() if theirs in row}


def broker_pid() -> int | None:
    """The pid of the local broker (deploy/local/kafka.sh, from any checkout) that listens on
    $KAFKA_BOOTSTRAP_SERVERS's port: its command line names .run/<port>/server.properties."""
    port = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092").rsplit(":", 1)[-1]
    wanted = f"/.run/{port}/server.properties".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if b"kafka.Kafka" in command and wanted in command:
            return int(entry.name)
    return None


@dataclass(frozen=True)
class Meter:
    """What a machine and some processes did between two readings: ``since(read())``.

    ``processes`` names groups of pids (their CPU and run-queue wait are summed), ``metrics``
    groups of /metrics ports (their garbage collections and batches are summed); the local
    broker, if found, is measured as "broker" with its JVM collections."""

    processes: Mapping[str, Sequence[int]]
    metrics: Mapping[str, Sequence[int]] = field(default_factory=dict)

    def read(self) -> dict[str, float]:
        """Counters so far; what ``since`` subtracts."""
        busy, wall = busy_cores()
        out = {"busy_s": busy, "wall_s": wall, "stalled_s": cpu_stalled_s()}
        processes = dict(self.processes)
        broker = broker_pid()
        if broker is not None:
            processes["broker"] = [broker]
            out.update({f"broker_{k}": v for k, v in jvm_pauses(broker).items()})
        for name, pids in processes.items():
            out[f"{name}_cpu_s"] = sum(cpu_seconds(pid) for pid in pids)
            out[f"{name}_waited_s"] = sum(waited_s(pid) for pid in pids)
        for name, ports in self.metrics.items():
            for port in ports:
                for key, value in scraped(port).items():
                    out[f"{name}_{key}"] = out.get(f"{name}_{key}", 0.0) + value
        return out

    def since(self, before: dict[str, float]) -> dict[str, float]:
        """The differences since ``before``, with the machine's busy cores and the share of
        the time it had more runnable work than cores instead of its raw counters."""
        after = self.read()
        out = {key: value - before.get(key, 0.0) for key, value in after.items()}
        wall = out.pop("wall_s")
        out["machine_busy_cores"] = out.pop("busy_s") / wall
        out["cpu_stalled_share"] = out.pop("stalled_s") / wall
        return out


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class Process:
    """A background process whose output goes to a log file."""

    popen: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, args: Sequence[str], log_path: Path, root: Path = ROOT) -> "Process":
        """``args`` run by this Python from ``root`` (another checkout: an A/B of its code)."""
        env = {**ENV, "PYTHONPATH": str(root)}
        with log_path.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, *args], env=env, cwd=root, stdout=out, stderr=out
            )
        return cls(popen, log_path)

    def wait_line(self, text: str, limit_s: float = 30) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.log_path.name}: no {text!r}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()


def start_gateway(
    port: int,
    log_path: Path,
    *,
    instance: int,
    http_port: int | None = None,
    extra: Sequence[str] = (),
    root: Path = ROOT,
) -> Process:
    """``python -m gateway`` on 127.0.0.1:``port``, security profile 0, warnings only; from the
    checkout at ``root``."""
    return Process.start(
        [
            "-m",
            "gateway",
            "--host=127.0.0.1",
            f"--port={port}",
            "--http-host=127.0.0.1",
            f"--http-port={free_port() if http_port is None else http_port}",
            f"--instance={instance}",
            "--security-profile=0",
            "--log-level=WARNING",
            *extra,
        ],
        log_path,
        root,
    )


def simulate(args: Sequence[str], limit_s: float) -> dict[str, Any]:
    """One simulator run as a subprocess; its JSON summary."""
    done = subprocess.run(
        [sys.executable, "-m", "tools.simulator", "--json", "--quiet", *args],
        env=ENV,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=limit_s,
        check=False,
    )
    if not done.stdout.strip():
        raise RuntimeError(f"simulator printed nothing (exit {done.returncode}):\n{done.stderr}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


class TopicWatch:
    """Reads ``topics`` from their end in a thread of its own while a benchmark runs, and hands
    each record's key and envelope to ``record`` with the time it became readable (monotonic
    seconds). ``lock`` is held while a fetch is handed over."""

    def __init__(self, topics: Sequence[str], poll_ms: int = 100) -> None:
        self.topics = tuple(topics)
        self.lock = threading.Lock()
        self._poll_ms = poll_ms
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def record(self, key: str, envelope: Envelope, readable_at: float) -> None:
        raise NotImplementedError

    def __enter__(self) -> Any:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the watching consumer did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers(os.environ), enable_auto_commit=False
        )
        await consumer.start()
        try:
            parts = [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in range(SPECS[Topic(topic)].partitions)
            ]
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            for tp in parts:
                await consumer.position(tp)
            self._ready.set()
            while not self._stop.is_set():
                batches = await consumer.getmany(timeout_ms=self._poll_ms)
                now = time.monotonic()
                with self.lock:
                    for records in batches.values():
                        for r in records:
                            if r.key is not None and r.value is not None:
                                self.record(r.key.decode(errors="replace"), decode(r.value), now)
        finally:
            await consumer.stop()
