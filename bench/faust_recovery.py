"""Reproduction: does a faust table shaped like the sessions service recover after a restart?

docs/sessions.md ("The worker shell, and why not faust tables") records that with
faust-streaming 0.15.3, aiokafka 0.14 and Kafka 4.1.1 the faust sessions app's table never
finished changelog recovery after a restart: the log repeated `[^---Recovery]: No event received
for active tp TopicPartition(topic='…-stations-changelog', …) since recovery start`. Rerun this
when faust-streaming or aiokafka changes:

    python -m bench.faust_recovery [--stations 3000] [--records 3] [--inputs 2] [--signal KILL]

Scenario, on fresh topics `faust-repro-<id>-…` (deleted at the end unless --keep): a worker of
bench/faust_sessions_app.py (8-partition input topics keyed by station id, a table `stations`
with ~550 bytes of msgpack per station, store memory://) starts; the script produces
--records calls per station (and one presence change per station with --inputs 2), waits until
the table holds them all and the group has committed every input offset, then kills the worker
(--signal) and starts a new one. The new worker can only rebuild the table from its changelog.
Recovered = faust reports table recovery done (`app.tables.recovery.completed`) AND the table
holds exactly what the first worker had. Progress on stderr, the report on stdout, with the
number of "No event received for active tp" and "Error in recovery" lines in the new worker's
log and the exception types of their tracebacks (the app attaches them).

What it found (faust-streaming 0.15.3, aiokafka 0.14.0, Kafka 4.1.1): with --table untyped, the
sessions app's declaration, recovery never completes, at any size and with either signal; with
--table raw or json it completes in seconds. A table's changelog serializers come from its
key_type/value_type, defaulting to "json" whatever the app's value_serializer says; faust writes
a bytes value as is (it skips serializing bytes) but decodes it as JSON on recovery. Every
changelog record then raises ValueDecodeError in the consumer, which the recovery loop logs as
`Error in recovery …` and drops; its offsets never reach the high-water mark, so it waits for
ever, logging `No event received for active tp …`. Timers and the web server start only after
recovery, so readiness never comes. Declare `key_type=bytes, value_type=bytes` for raw tables.

Exit status: 0 recovered within --timeout, 1 not recovered, 2 setup error (broker, topics,
first worker).
"""

import argparse
import asyncio
import importlib.metadata
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from runtime.reading import end_offsets

ROOT = Path(__file__).resolve().parents[1]
RECOVERY_LINE = "No event received for active tp"
ERROR_LINE = "Error in recovery"
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): ", re.MULTILINE)
WORKER_MODULE = "bench.faust_sessions_app"


class SetupError(Exception):
    """Something other than the recovery under test failed: exit status 2."""


class WorkerDied(Exception):
    """The worker exited, or one of its agents crashed."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    found = {}
    for package in ("faust-streaming", "aiokafka", "mode-streaming"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    pom = ROOT / "deploy" / "local" / "pom.xml"
    try:
        match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    except OSError:
        match = None
    found["kafka broker (deploy/local/pom.xml)"] = match.group(1) if match else "unknown"
    found["python"] = sys.version.split()[0]
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Names:
    """Topic names and the app id of one run."""

    prefix: str
    inputs: int
    global_table: bool

    @property
    def app_id(self) -> str:
        return f"{self.prefix}-sessions"

    @property
    def inbound(self) -> str:
        return f"{self.prefix}-ocpp.inbound.v1"

    @property
    def presence(self) -> str:
        return f"{self.prefix}-ocpp.presence.v1" if self.inputs == 2 else ""

    @property
    def tokens(self) -> str:
        return f"{self.prefix}-sessions.tokens.v1" if self.global_table else ""

    @property
    def changelog(self) -> str:
        return f"{self.app_id}-stations-changelog"

    def inputs_list(self) -> list[str]:
        return [t for t in (self.inbound, self.presence) if t]


@dataclass
class Worker:
    """One faust worker process of bench/faust_sessions_app.py, logging to a file."""

    name: str
    workdir: Path
    env: dict[str, str]
    web: bool
    process: subprocess.Popen[bytes] = field(init=False)
    started_at: float = field(init=False)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True)
        self.dump = self.workdir / "dump.json"
        self.log_path = self.workdir / "worker.log"
        env = {**self.env, "FR_DUMP": str(self.dump), "PYTHONPATH": str(ROOT)}
        args = [sys.executable, "-m", WORKER_MODULE, "worker", "--loglevel", "warn"]
        if self.web:
            env["FR_WEB_PORT"] = str(free_port())
        else:
            args.append("--without-web")
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                args, cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.started_at = time.monotonic()
        log(f"{self.name} worker started (pid {self.process.pid}, log {self.log_path})")

    def state(self) -> dict[str, Any] | None:
        try:
            return dict(json.loads(self.dump.read_text()))
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def recovery_lines(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if RECOVERY_LINE in line]

    def error_lines(self) -> list[str]:
        return [line for line in self.log_text().splitlines() if ERROR_LINE in line]

    def exceptions(self) -> dict[str, int]:
        """The exception types of the tracebacks in the log, how often each."""
        found: dict[str, int] = {}
        for name in EXCEPTION_LINE.findall(self.log_text()):
            found[name] = found.get(name, 0) + 1
        return found

    def tail(self, chars: int = 4000) -> str:
        return self.log_text()[-chars:]

    async def wait_for(
        self, expected: dict[str, int], limit_s: float, progress_s: float = 10.0
    ) -> float | None:
        """Seconds from start until recovery is done and the table matches, else None."""
        deadline = time.monotonic() + limit_s
        next_progress = time.monotonic() + progress_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkerDied(f"{self.name} worker exited with {self.process.returncode}")
            if "Crashed reason=" in self.log_text():
                raise WorkerDied(f"an agent of the {self.name} worker crashed")
            state = self.state()
            if state is not None and state["recovered"] and _matches(state, expected):
                return time.monotonic() - self.started_at
            if time.monotonic() >= next_progress:
                next_progress += progress_s
                log(
                    f"{self.name}: {time.monotonic() - self.started_at:.0f}s, table {_brief(state)}"
                    f", {len(self.recovery_lines())} '{RECOVERY_LINE}' lines so far"
                )
            await asyncio.sleep(0.1)
        return None

    def stop(self, sig: signal.Signals, limit_s: float = 60.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=limit_s)
        except subprocess.TimeoutExpired:
            log(f"{self.name} worker did not exit {limit_s:g}s after {sig.name}: SIGKILL")
            self.process.kill()
            self.process.wait(timeout=30)


def _matches(state: dict[str, Any], expected: dict[str, int]) -> bool:
    return all(state.get(key) == value for key, value in expected.items())


def _brief(state: dict[str, Any] | None) -> str:
    if state is None:
        return "no dump yet"
    keys = ("recovered", "stations", "calls", "presence_changes", "msgpack_bytes", "tokens")
    return ", ".join(f"{k}={state.get(k)}" for k in keys if state.get(k) is not None)


def _call(station: str, n: int) -> bytes:
    actions = ("StatusNotification", "MeterValues", "Heartbeat")
    call = {
        "station": station,
        "action": actions[n % len(actions)],
        "connector": 1 + n % 2,
        "status": ("Charging", "Available")[n % 2],
        "n": n,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "message_id": uuid.uuid4().hex,
    }
    return json.dumps(call).encode()


async def produce(bootstrap: str, names: Names, stations: int, records: int) -> dict[str, int]:
    """Every station's calls (and one presence change each); the counts the table must show."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    sent = 0
    try:
        futures = []
        if names.tokens:
            for i in range(20):
                token = f"TOKEN-{i}".encode()
                value = json.dumps({"id_token": token.decode(), "status": "Accepted"}).encode()
                futures.append(await producer.send(names.tokens, value, key=token))
        for n in range(records):
            for s in range(stations):
                station = f"CS-{s:06d}"
                if n == 0 and names.presence:
                    change = {"connected": True, "gateway": "gw-0"}
                    futures.append(
                        await producer.send(
                            names.presence, json.dumps(change).encode(), key=station.encode()
                        )
                    )
                futures.append(
                    await producer.send(names.inbound, _call(station, n), key=station.encode())
                )
                if len(futures) >= 2000:
                    await asyncio.gather(*futures)
                    sent += len(futures)
                    futures = []
        await asyncio.gather(*futures)
        sent += len(futures)
    finally:
        await producer.stop()
    log(f"produced {sent} records")
    expected = {"stations": stations, "calls": stations * records}
    if names.presence:
        expected["presence_changes"] = stations
    if names.tokens:
        expected["tokens"] = 20
    return expected


async def wait_committed(
    admin: AIOKafkaAdminClient, bootstrap: str, names: Names, limit_s: float = 60.0
) -> None:
    """Until the group's committed offsets reach the end of every input partition."""
    ends = await end_offsets(bootstrap, names.inputs_list(), 10)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        offsets = await admin.list_consumer_group_offsets(names.app_id)
        behind = sum(end - (offsets[tp].offset if tp in offsets else 0) for tp, end in ends.items())
        if behind == 0:
            return
        await asyncio.sleep(0.2)
    raise SetupError(f"group {names.app_id} still {behind} records behind after {limit_s:g}s")


async def create_topics(admin: AIOKafkaAdminClient, names: Names, partitions: int) -> None:
    topics = [
        NewTopic(t, num_partitions=partitions, replication_factor=1) for t in names.inputs_list()
    ]
    if names.tokens:
        topics.append(
            NewTopic(
                names.tokens,
                num_partitions=1,
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"},
            )
        )
    await admin.create_topics(topics)


async def delete_topics(admin: AIOKafkaAdminClient, prefix: str) -> list[str]:
    """Every topic of this run: the inputs and whatever faust created under the app id."""
    ours = [t for t in await admin.list_topics() if t.startswith(prefix)]
    if ours:
        await admin.delete_topics(ours)
    return ours


@dataclass
class Outcome:
    produced: int = 0
    expected: dict[str, int] = field(default_factory=dict)
    first_ready_s: float | None = None
    exit_status: int | None = None
    stop_s: float | None = None
    recovered_s: float | None = None
    recovery_lines: int = 0
    error_lines: int = 0
    first_error: str = ""
    exceptions: dict[str, int] = field(default_factory=dict)
    died: str = ""
    last_state: dict[str, Any] | None = None
    changelog_records: int = 0
    changelog_partitions: dict[int, int] = field(default_factory=dict)


async def run(args: argparse.Namespace, names: Names, workdir: Path, outcome: Outcome) -> None:
    bootstrap = args.bootstrap
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "FR_APP_ID": names.app_id,
        "FR_PARTITIONS": str(args.partitions),
        "FR_INBOUND": names.inbound,
        "FR_PRESENCE": names.presence,
        "FR_TOKENS": names.tokens,
        "FR_TABLE": args.table,
    }
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    try:
        async with asyncio.timeout(20):
            await admin.start()
    except Exception as exc:
        raise SetupError(f"cannot reach Kafka at {bootstrap}: {exc!r}") from exc
    try:
        await create_topics(admin, names, args.partitions)
        log(f"created topics {', '.join(names.inputs_list())} ({args.partitions} partitions)")

        first = Worker("first", workdir / "first", env, args.web)
        try:
            try:
                ready = await first.wait_for({"stations": 0}, limit_s=args.setup_timeout)
            except WorkerDied as exc:
                raise SetupError(f"{exc}:\n{first.tail()}") from None
            if ready is None:
                raise SetupError(f"first worker not ready after {args.setup_timeout:g}s")
            outcome.first_ready_s = ready
            log(f"first worker ready after {ready:.1f}s (empty table recovered)")
            expected = await produce(bootstrap, names, args.stations, args.records)
            outcome.expected = expected
            outcome.produced = args.stations * args.records + (
                args.stations if names.presence else 0
            )
            try:
                took = await first.wait_for(expected, limit_s=args.setup_timeout)
            except WorkerDied as exc:
                raise SetupError(f"{exc}:\n{first.tail()}") from None
            if took is None:
                raise SetupError(
                    f"first worker's table is {_brief(first.state())} after "
                    f"{args.setup_timeout:g}s, expected {expected}:\n{first.tail()}"
                )
            await wait_committed(admin, bootstrap, names)
            state = first.state()
            log(f"first worker holds everything and committed: {_brief(state)}")
            changelog = await end_offsets(bootstrap, [names.changelog], 10)
            outcome.changelog_partitions = {tp.partition: n for tp, n in changelog.items()}
            outcome.changelog_records = sum(changelog.values())
            log(
                f"changelog {names.changelog}: {outcome.changelog_records} records in "
                f"{len(changelog)} partitions"
            )
            if args.before_kill > 0:
                await asyncio.sleep(args.before_kill)
        finally:
            sig = signal.Signals[f"SIG{args.signal}"]
            began = time.monotonic()
            first.stop(sig)
            outcome.stop_s = time.monotonic() - began
            outcome.exit_status = first.process.returncode
            log(f"first worker stopped by SIG{args.signal}: exit {first.process.returncode}")

        if args.restart_delay > 0:
            log(f"waiting {args.restart_delay:g}s before the restart")
            await asyncio.sleep(args.restart_delay)
        second = Worker("second", workdir / "second", env, args.web)
        try:
            try:
                outcome.recovered_s = await second.wait_for(expected, limit_s=args.timeout)
            except WorkerDied as exc:
                outcome.died = str(exc)
            if outcome.recovered_s is None:
                log(f"second worker log tail:\n{second.tail(1500)}")
            elif args.linger > 0:  # does it keep working after recovery?
                await asyncio.sleep(args.linger)
        finally:
            second.stop(signal.SIGTERM)
            log(f"second worker stopped: exit {second.process.returncode}")
            outcome.last_state = second.state()
            outcome.recovery_lines = len(second.recovery_lines())
            errors = second.error_lines()
            outcome.error_lines = len(errors)
            outcome.first_error = errors[0].split("] ", 3)[-1].strip() if errors else ""
            outcome.exceptions = second.exceptions()
    finally:
        try:
            if args.keep:
                log(f"--keep: topics {names.prefix}-* and work dir {workdir} kept")
            else:
                await asyncio.sleep(1)  # let the group's member leave before topics vanish
                deleted = await delete_topics(admin, names.prefix)
                log(f"deleted topics: {', '.join(sorted(deleted))}")
        finally:
            await admin.close()


def report(args: argparse.Namespace, names: Names, outcome: Outcome) -> int:
    print("faust table recovery reproduction (bench/faust_recovery.py)")
    for package, version in versions().items():
        print(f"  {package}: {version}")
    print(
        f"  run: prefix {names.prefix}, {args.stations} stations x {args.records} calls, "
        f"{args.inputs} input topic(s), {args.partitions} partitions, table {args.table}, "
        f"global table {'yes' if args.global_table else 'no'}, web {'on' if args.web else 'off'}, "
        f"signal SIG{args.signal}, restart delay {args.restart_delay:g}s, timeout {args.timeout:g}s"
    )
    print(f"  records produced: {outcome.produced} (expected table: {outcome.expected})")
    print(
        f"  changelog: {outcome.changelog_records} records, per partition "
        f"{outcome.changelog_partitions}"
    )
    print(
        f"  first worker: ready in {outcome.first_ready_s:.1f}s, stopped in "
        f"{outcome.stop_s or 0:.1f}s (exit {outcome.exit_status})"
    )
    print(f"  second worker's last table summary: {_brief(outcome.last_state)}")
    print(f"  '{RECOVERY_LINE}' lines in the second worker's log: {outcome.recovery_lines}")
    print(f"  '{ERROR_LINE}' lines in the second worker's log: {outcome.error_lines}")
    if outcome.first_error:
        print(f"    first: {outcome.first_error}")
    if outcome.exceptions:
        print(f"  exceptions in the second worker's log: {outcome.exceptions}")
    if outcome.recovered_s is not None:
        print(f"VERDICT: recovered in {outcome.recovered_s:.1f}s after the restart")
        return 0
    if outcome.died:
        print(f"VERDICT: did not recover: {outcome.died}")
    else:
        print(f"VERDICT: did not recover within {args.timeout:g}s")
    return 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faust_recovery",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit status: 0 recovered, 1 not recovered within --timeout, 2 setup error.",
    )
    parser.add_argument("--stations", type=int, default=3000, help="stations (default 3000)")
    parser.add_argument("--records", type=int, default=3, help="calls per station (default 3)")
    parser.add_argument("--partitions", type=int, default=8, help="partitions (default 8)")
    parser.add_argument(
        "--inputs",
        type=int,
        choices=(1, 2),
        default=2,
        help="input topics: 1 = calls only, 2 = calls + presence, co-partitioned (default 2)",
    )
    parser.add_argument(
        "--table",
        choices=("untyped", "raw", "json"),
        default="untyped",
        help="how the table is declared (bench/faust_sessions_app.py): untyped = like the "
        "sessions app, Table('stations') with str keys and msgpack bytes values (faust's "
        "default json changelog serializers); raw = key_type=bytes, value_type=bytes; "
        "json = untyped with dict values (default untyped)",
    )
    parser.add_argument(
        "--global-table",
        action="store_true",
        help="also follow a 1-partition tokens topic into a faust GlobalTable",
    )
    parser.add_argument(
        "--web", action="store_true", help="run the workers with faust's web server (127.0.0.1)"
    )
    parser.add_argument(
        "--signal", choices=("KILL", "TERM", "INT"), default="KILL", help="default KILL"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for recovery (default 120)"
    )
    parser.add_argument(
        "--restart-delay",
        type=float,
        default=0.0,
        help="seconds between the first worker's exit and the second's start (default 0)",
    )
    parser.add_argument(
        "--before-kill",
        type=float,
        default=0.0,
        help="seconds the first worker idles after committing, before the signal (default 0)",
    )
    parser.add_argument(
        "--linger",
        type=float,
        default=0.0,
        help="seconds the recovered second worker keeps running before it is stopped",
    )
    parser.add_argument(
        "--setup-timeout",
        type=float,
        default=120.0,
        help="seconds for the first worker to start and to take in the records (default 120)",
    )
    parser.add_argument(
        "--bootstrap",
        default="127.0.0.1:9092",
        help="Kafka bootstrap servers (default 127.0.0.1:9092)",
    )
    parser.add_argument("--keep", action="store_true", help="keep topics and the work dir")
    parser.add_argument("--workdir", type=Path, help="work dir (default: a new temporary dir)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    names = Names(f"faust-repro-{uuid.uuid4().hex[:8]}", args.inputs, args.global_table)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix=f"{names.prefix}-"))
    workdir = workdir / names.prefix
    log(f"run {names.prefix}, work dir {workdir}")
    outcome = Outcome()
    try:
        asyncio.run(run(args, names, workdir, outcome))
    except SetupError as exc:
        print(f"SETUP ERROR: {exc}")
        return 2
    status = report(args, names, outcome)
    if status == 0 and not args.keep and args.workdir is None:
        shutil.rmtree(workdir.parent, ignore_errors=True)
    else:
        print(f"  worker logs: {workdir}/first/worker.log, {workdir}/second/worker.log")
    return status


if __name__ == "__main__":
    sys.exit(main())
