"""Drive simulated stations over real WebSockets and count what happens (I/O: the shell)."""

import asyncio
import base64
import contextlib
import logging
import random
import resource
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from tools.simulator import schemas
from tools.simulator.events import CallAnswered, CallHandled, Event
from tools.simulator.payloads import Version
from tools.simulator.report import Progress, Summary, Tally
from tools.simulator.station import Behaviour, Station

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0
CLOSE_TIMEOUT_S = 5.0
LOAD_ACTIONS = ("Heartbeat", "MeterValues", "mixed")


class ConfigError(ValueError):
    """The configuration cannot run: a bad URL, version or number."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorConfig:
    url: str = "ws://127.0.0.1:9000/ocpp"  # the station id is appended, or replaces {station_id}
    stations: int = 10
    prefix: str = "SIM"
    first_index: int = 1  # station ids are prefix + 5-digit index
    version: str = "1.6"  # "1.6", "2.0.1" or "mixed" (alternating)
    connect_rate: float = 100.0  # new connections per second
    duration_s: float = 30.0  # the run always stops after this
    warmup_s: float = 0.0  # answers before this are left out of the steady-state latency
    behaviour: Behaviour = field(default_factory=Behaviour)
    password: str | None = field(default=None, repr=False)  # HTTP Basic, for every station
    cafile: str | None = None
    certfile: str | None = None  # a client certificate: security profile 3
    keyfile: str | None = None
    reconnect_storm_at_s: float | None = None  # drop every connection then, reconnect at once
    rate: float | None = None  # offered load: CALLs per second across all stations
    rate_action: str = "mixed"  # Heartbeat, MeterValues or mixed (alternating)
    compression: bool = False  # permessage-deflate (optional for stations)
    open_timeout_s: float = 10.0
    ping_interval_s: float | None = 20.0
    validate: bool = False  # check every answer and CSMS CALL against the OCA schemas
    seed: int = 0
    expect_accepted: int | None = None

    def check(self) -> None:
        """Raises: ConfigError: if the run cannot start."""
        if self.version not in ("1.6", "2.0.1", "mixed"):
            raise ConfigError(f"version must be 1.6, 2.0.1 or mixed, not {self.version!r}")
        if self.stations < 1 or self.connect_rate <= 0 or self.duration_s <= 0:
            raise ConfigError("stations, connect rate and duration must be positive")
        if self.rate is not None and self.rate <= 0:
            raise ConfigError("rate must be positive")
        if not 0 <= self.warmup_s < self.duration_s:
            raise ConfigError("warmup must be at least 0 and shorter than the duration")
        if self.rate_action not in LOAD_ACTIONS:
            raise ConfigError(f"rate action must be one of {', '.join(LOAD_ACTIONS)}")
        try:
            secure = parse_uri(self.uri(self.station_ids()[0])).secure
        except InvalidURI as exc:
            raise ConfigError(str(exc)) from exc
        if not secure and (self.cafile or self.certfile):
            raise ConfigError("--cafile/--certfile need a wss:// URL")
        if secure:
            _ssl_context(self)

    def station_ids(self) -> list[str]:
        last = self.first_index + self.stations
        return [f"{self.prefix}{i:05d}" for i in range(self.first_index, last)]

    def version_of(self, index: int) -> Version:
        """``index`` counts from 0 within this run; mixed alternates on the station number."""
        if self.version == "mixed":
            return Version.V16 if (self.first_index + index) % 2 else Version.V201
        return Version(self.version)

    def uri(self, station_id: str) -> str:
        encoded = quote(station_id, safe="")
        if "{station_id}" in self.url:
            return self.url.replace("{station_id}", encoded)
        return f"{self.url.rstrip('/')}/{encoded}"


@dataclass(slots=True, eq=False)
class _Link:
    """One station and its current connection."""

    station: Station
    uri: str
    ws: ClientConnection | None = None
    waiting: asyncio.Timeout | None = None  # the receive timeout, so the pacer can move it
    connects: int = 0
    accepted: bool = False
    dropped: bool = False


def basic_auth(station_id: str, password: str) -> str:
    """OCPP security profile 1/2: the username is the station id (A00.FR.204)."""
    return "Basic " + base64.b64encode(f"{station_id}:{password}".encode()).decode()


async def run(
    config: SimulatorConfig,
    progress: Callable[[Progress], None] | None = None,
    *,
    stop: asyncio.Event | None = None,
) -> Summary:
    """Run the stations for ``config.duration_s`` seconds, or until ``stop`` is set.

    ``progress`` is called every second. Whatever the CSMS does, this returns a summary.

    Raises:
        ConfigError: if the configuration cannot run.
    """
    config.check()
    return await _Run(config).run(progress, stop or asyncio.Event())


class _Run:
    def __init__(self, config: SimulatorConfig) -> None:
        self.config, self.tally = config, Tally()
        self.loop = asyncio.get_running_loop()
        self.rng = random.Random(config.seed)
        epoch_s = time.time() - self.loop.time()
        self.links = [
            _Link(
                Station(
                    station_id, config.version_of(i), config.behaviour, self.rng, epoch_s=epoch_s
                ),
                config.uri(station_id),
            )
            for i, station_id in enumerate(config.station_ids())
        ]
        self.ssl = _ssl_context(config) if config.url.startswith("wss:") else None
        self.stopping = asyncio.Event()
        self.all_accepted = asyncio.Event()
        self.start = self.loop.time()
        self.connected_once = self.accepted = 0
        self.all_connected_s: float | None = None
        self.all_accepted_s: float | None = None
        self.load_window_s = 0.0
        self.unanswered = 0

    async def run(
        self, progress: Callable[[Progress], None] | None, stop: asyncio.Event
    ) -> Summary:
        config, usage = self.config, resource.getrusage(resource.RUSAGE_SELF)
        self.start = self.loop.time()
        drivers: list[asyncio.Task[None]] = []
        helpers = [asyncio.create_task(self._launch(drivers))]
        if progress is not None:
            helpers.append(asyncio.create_task(self._progress(progress)))
        if config.reconnect_storm_at_s is not None:
            helpers.append(asyncio.create_task(self._storm(config.reconnect_storm_at_s)))
        if config.rate is not None:
            helpers.append(asyncio.create_task(self._pace(config.rate)))
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(config.duration_s):
                    await stop.wait()
        finally:
            await self._stop(helpers, drivers)
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = after.ru_utime + after.ru_stime - usage.ru_utime - usage.ru_stime
        return Summary(
            stations=len(self.links),
            versions=dict(Counter(link.station.version.value for link in self.links)),
            duration_s=self.loop.time() - self.start,
            accepted=self.accepted,
            tally=self.tally,
            expect_accepted=config.expect_accepted,
            all_connected_s=self.all_connected_s,
            all_accepted_s=self.all_accepted_s,
            load_window_s=self.load_window_s,
            warmup_s=config.warmup_s,
            unanswered=self.unanswered,
            cpu_s=cpu_s,
            max_rss_mb=after.ru_maxrss / 1024,  # KiB on Linux
        )

    async def _stop(
        self, helpers: list[asyncio.Task[None]], drivers: list[asyncio.Task[None]]
    ) -> None:
        self.stopping.set()
        self.unanswered = sum(1 for link in self.links if link.station.in_flight_action and link.ws)
        for task in helpers:
            task.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
        closing = [asyncio.create_task(link.ws.close()) for link in self.links if link.ws]
        if closing:
            await asyncio.wait(closing, timeout=CLOSE_TIMEOUT_S)
        for task in drivers + closing:
            task.cancel()
        await asyncio.gather(*drivers, *closing, return_exceptions=True)

    # --- one station -----------------------------------------------------------------------

    async def _drive(self, link: _Link) -> None:
        station, backoff_s = link.station, 1.0
        while not self.stopping.is_set():
            try:
                if (ws := await self._connect(link)) is None:
                    await asyncio.sleep(backoff_s * self.rng.uniform(0.5, 1.5))
                    backoff_s = min(MAX_BACKOFF_S, backoff_s * 2)
                    continue
                backoff_s = 1.0
                try:
                    await self._pump(link, ws)
                except ConnectionClosed:
                    pass
                finally:
                    link.ws = None
                    station.disconnect(self.loop.time())
                    self._record(link, station.events_received())
                if self.stopping.is_set():
                    return
                if link.dropped:  # the storm: reconnect at once, no backoff
                    link.dropped = False
                    continue
                self.tally.disconnects += 1
                self.tally.errors[f"Disconnected {ws.close_code or 1006}"] += 1
                await asyncio.sleep(backoff_s * self.rng.uniform(0.5, 1.5))
            except Exception:  # a bug here must not end the other stations' runs
                log.exception("%s: simulator error", station.station_id)
                self.tally.errors["SimulatorError"] += 1
                await asyncio.sleep(MAX_BACKOFF_S)

    async def _connect(self, link: _Link) -> ClientConnection | None:
        station, config = link.station, self.config
        headers = {}
        if (password := station.password or config.password) is not None:
            headers["Authorization"] = basic_auth(station.station_id, password)
        try:
            ws = await connect(
                link.uri,
                subprotocols=[Subprotocol(station.version.subprotocol)],
                additional_headers=headers,
                ssl=self.ssl,
                compression="deflate" if config.compression else None,
                open_timeout=config.open_timeout_s,
                ping_interval=config.ping_interval_s,
                ping_timeout=config.ping_interval_s,
                close_timeout=CLOSE_TIMEOUT_S,
                max_size=2**20,
                proxy=None,  # never through an HTTP(S)_PROXY from the environment
            )
        except InvalidStatus as exc:
            reason = f"HTTP {exc.response.status_code}"
        except InvalidHandshake as exc:
            reason = type(exc).__name__
        except TimeoutError:
            reason = "OpenTimeout"
        except OSError as exc:
            reason = type(exc).__name__
        else:
            if ws.subprotocol == station.version.subprotocol:
                self._connected(link, ws)
                return ws
            await ws.close()
            reason = "NoSubprotocol"  # OCPP-J 1.6 §3.1.2, 2.0.1 Part 4 §3.2
        self.tally.errors[f"Connect {reason}"] += 1
        return None

    def _connected(self, link: _Link, ws: ClientConnection) -> None:
        link.ws, link.connects = ws, link.connects + 1
        self.tally.connects += 1
        if link.connects > 1:
            self.tally.reconnects += 1
        else:
            self.connected_once += 1
            if self.connected_once == len(self.links):
                self.all_connected_s = self.loop.time() - self.start
        link.station.connect(self.loop.time())

    async def _pump(self, link: _Link, ws: ClientConnection) -> None:
        """Until the connection closes: send, then wait for a frame or the next deadline."""
        station = link.station
        while True:
            await self._flush(link)
            try:
                async with asyncio.timeout_at(station.next_deadline()) as link.waiting:
                    message = await ws.recv()
            except TimeoutError:
                station.handle_timer(self.loop.time())
            else:
                self.tally.received += 1
                text = message if isinstance(message, str) else message.decode(errors="replace")
                station.receive_text(text, self.loop.time())
            finally:
                link.waiting = None

    async def _flush(self, link: _Link) -> None:
        station = link.station
        self._record(link, station.events_received())
        if station.accepted_once and not link.accepted:
            link.accepted, self.accepted = True, self.accepted + 1
            if self.accepted == len(self.links):
                self.all_accepted_s = self.loop.time() - self.start
                self.all_accepted.set()
        texts = station.data_to_send()
        if link.ws is not None:
            for text in texts:
                await link.ws.send(text)
                self.tally.sent += 1

    def _record(self, link: _Link, events: list[Event]) -> None:
        if self.stopping.is_set():
            return
        steady = self.loop.time() - self.start >= self.config.warmup_s
        for event in events:
            self.tally.record(event, steady=steady)
            if self.config.validate and isinstance(event, CallAnswered | CallHandled):
                self._validate(link.station.version, event)

    def _validate(self, version: Version, event: CallAnswered | CallHandled) -> None:
        if isinstance(event, CallAnswered) and event.error_code is not None:
            return
        name = schemas.schema_name(version, event.action, response=isinstance(event, CallAnswered))
        if (problem := schemas.violation(version, name, event.payload)) is not None:
            if self.tally.errors[f"SchemaViolation {name}"] == 0:
                log.warning("OCPP %s %s", version, problem)
            self.tally.errors[f"SchemaViolation {name}"] += 1

    # --- all stations ----------------------------------------------------------------------

    async def _launch(self, drivers: list[asyncio.Task[None]]) -> None:
        """Start the stations at ``connect_rate`` per second."""
        for i, link in enumerate(self.links):
            delay_s = self.start + i / self.config.connect_rate - self.loop.time()
            if delay_s > 0:
                await asyncio.sleep(delay_s)
            drivers.append(asyncio.create_task(self._drive(link)))

    async def _progress(self, progress: Callable[[Progress], None]) -> None:
        answers_before, before = 0, self.loop.time()
        while True:
            await asyncio.sleep(1.0)
            now = self.loop.time()
            answers = sum(sum(s.values()) for s in self.tally.answers.values())
            progress(
                Progress(
                    elapsed_s=now - self.start,
                    connected=sum(1 for link in self.links if link.ws is not None),
                    booted=sum(1 for link in self.links if link.station.booted),
                    sent=self.tally.sent,
                    answers=answers,
                    errors=sum(self.tally.errors.values()),
                    rate_per_s=(answers - answers_before) / (now - before),
                )
            )
            answers_before, before = answers, now

    async def _storm(self, at_s: float) -> None:
        """Drop every connection at once, like a network failure (no close handshake)."""
        await asyncio.sleep(at_s)
        for link in self.links:
            if link.ws is not None:
                link.dropped = True
                self.tally.drops += 1
                link.ws.transport.abort()

    async def _pace(self, rate: float) -> None:
        """Offer ``rate`` CALLs per second, each to the next idle booted station."""
        settle_until = self.start + len(self.links) / self.config.connect_rate + 10.0
        with contextlib.suppress(TimeoutError):  # pace what is there
            async with asyncio.timeout_at(settle_until):
                await self.all_accepted.wait()
        start, offers, cursor = self.loop.time(), 0, 0
        actions = ("Heartbeat", "MeterValues")
        while True:
            now = self.loop.time()
            for _ in range(int((now - start) * rate) - offers):
                offers += 1
                action = self.config.rate_action
                if action == "mixed":
                    action = actions[offers % 2]
                link, cursor = self._idle_link(cursor)
                if link is None or not link.station.offer_load(action, now):
                    self.tally.load_skipped += 1
                    continue
                self.tally.load_offered += 1
                try:
                    await self._flush(link)
                except ConnectionClosed:
                    continue
                self._nudge(link)
            self.load_window_s = self.loop.time() - start
            await asyncio.sleep(0.002)

    def _idle_link(self, cursor: int) -> tuple[_Link | None, int]:
        for _ in range(min(64, len(self.links))):
            link = self.links[cursor]
            cursor = (cursor + 1) % len(self.links)
            if link.ws is not None and link.station.booted and link.station.idle:
                return link, cursor
        return None, cursor

    def _nudge(self, link: _Link) -> None:
        """Bring the station's receive timeout forward to its new deadline (the CALL's)."""
        if link.waiting is None or (deadline := link.station.next_deadline()) is None:
            return
        when = link.waiting.when()
        if when is None or deadline < when:
            link.waiting.reschedule(deadline)


def _ssl_context(config: SimulatorConfig) -> ssl.SSLContext:
    """Raises: ConfigError: if a CA, certificate or key file cannot be loaded."""
    try:
        context = ssl.create_default_context(cafile=config.cafile)
        if config.certfile is not None:
            context.load_cert_chain(config.certfile, config.keyfile)
    except OSError as exc:  # ssl.SSLError included
        raise ConfigError(f"cannot load the TLS files: {exc}") from exc
    return context
