"""Every metric the Grafana dashboard and the Prometheus rules use is one a chargebus process
really exports: each kind of process runs for real (gateway, the workers, the APIs, the
certificates service), a simulated station boots through them, and every /metrics is scraped
over HTTP. Only Prometheus' own ``up`` and the Kafka Exporter's lag come from elsewhere."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from contracts.topics import Topic
from services.alerts.app import SOURCES as ALERTS_INPUTS
from services.billing.app import SOURCES as BILLING_INPUTS
from services.certificates.authority import write_dev_ca
from services.loadbalance.app import SOURCES as LOADBALANCE_INPUTS
from tests.support.gateway import ROOT, GatewayProcess
from tests.support.sessions import SESSIONS_INPUTS, WorkerProcess
from tests.support.simulator import simulated
from tests.support.waiting import found
from tests.unit.deploy.test_monitoring import used_metric_names

# Metrics from outside chargebus that the dashboard and the rules may use, and whose they are.
EXTERNAL = {
    "up": "Prometheus: 1 when it scraped a target",
    "kafka_consumergroup_lag": "Strimzi's Kafka Exporter (spec.kafkaExporter of the Kafka)",
}
# The sample names of a metric family, by type (OpenMetrics; prometheus_client prints a
# family's # HELP and # TYPE even while it has no sample, e.g. a labelled one never used).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
    "summary": ("", "_count", "_sum", "_created"),
}


@dataclass
class ApiProcess(WorkerProcess):
    """`python -m services.<name>.api` on a free port; a WorkerProcess's readiness and log."""

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "PYTHONPATH": str(ROOT)}
        argv = [sys.executable, "-m", self.module, "--host=127.0.0.1", f"--port={self.http_port}"]
        with self._log_path().open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, *self.extra_args], env=env, cwd=self.workdir, stdout=log, stderr=log
            )


@dataclass
class Fleet:
    """Every kind of chargebus process, running and ready."""

    gateway: GatewayProcess
    others: dict[str, WorkerProcess]

    def ports(self) -> dict[str, int]:
        return {"gateway": self.gateway.http_port} | {
            kind: process.http_port for kind, process in self.others.items()
        }


def _processes(bootstrap: str, tmp_path: Path) -> dict[str, WorkerProcess]:
    ca_cert, ca_key = write_dev_ca(tmp_path / "ca", organization="chargebus test")
    group = f"test-metrics-{uuid.uuid4().hex[:8]}"

    def worker(module: str, inputs: Iterable[str], *args: str) -> WorkerProcess:
        name = module.split(".")[1]
        return WorkerProcess(
            bootstrap,
            tmp_path / name,
            module=module,
            inputs=tuple(inputs),
            app_id=f"{group}-{name}",
            extra_args=args,
        )

    def api(name: str, *args: str) -> ApiProcess:
        return ApiProcess(
            bootstrap, tmp_path / f"{name}-api", module=f"services.{name}.api", extra_args=args
        )

    return {
        "sessions": worker("services.sessions", SESSIONS_INPUTS),
        "billing": worker("services.billing", BILLING_INPUTS),
        "loadbalance": worker("services.loadbalance", LOADBALANCE_INPUTS),
        "alerts": worker("services.alerts", ALERTS_INPUTS),
        "certificates": worker(
            "services.certificates", (Topic.STATIONS,), f"--ca-cert={ca_cert}", f"--ca-key={ca_key}"
        ),
        "sessions-api": api(
            "sessions",
            f"--commands-group={group}-sessions-api",
            "--commands-offset-reset=latest",
            "--sessions-window=0",
        ),
        "billing-api": api("billing", "--cdrs-window=0"),
        "loadbalance-api": api("loadbalance", "--history-hours=0.01"),
    }


@pytest_asyncio.fixture
async def fleet(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Fleet]:
    """Started side by side (2 cores: they share them while they start), stopped with SIGTERM."""
    gateway = GatewayProcess(
        kafka_bootstrap, tmp_path / "gateway.log", ["--security-profile=0", "--answer-timeout=4"]
    )
    # New groups of their own, starting at the end of their inputs (--offset-reset=latest).
    others = _processes(kafka_bootstrap, tmp_path)
    gateway.start()
    for process in others.values():
        process.start()
    try:
        await asyncio.gather(gateway.wait_ready(60), *(p.wait_ready(90) for p in others.values()))
        yield Fleet(gateway, others)
    finally:
        for process in others.values():
            if process.process is not None and process.process.poll() is None:
                process.kill(signal.SIGTERM)
        if gateway.process is not None and gateway.process.poll() is None:
            gateway.stop()


async def _scrape(session: aiohttp.ClientSession, port: int) -> str:
    async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        return await answer.text()


def exported_names(text: str) -> tuple[set[str], set[str]]:
    """(every name the exposition ``text`` declares, by its families' types; the names of the
    samples it holds now)."""
    declared: set[str] = set()
    sampled: set[str] = set()
    for family in text_string_to_metric_families(text):
        declared |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
        sampled |= {sample.name for sample in family.samples}
    return declared, sampled


async def _booted(fleet: Fleet, tmp_path: Path) -> None:
    """One simulated 2.0.1 station through the gateway and the sessions worker, until the
    gateway has timed the worker's answer to its BootNotification."""
    with simulated(
        fleet.gateway, f"MX{uuid.uuid4().hex[:6]}", tmp_path / "station.log", version="2.0.1"
    ):

        async def answered() -> bool:
            text = (await fleet.gateway.http_get("/metrics"))[1]
            return (
                'chargebus_gateway_service_round_trip_seconds_count{action="BootNotification"}'
                in text
            )

        await found(answered, "the gateway timed a BootNotification answer", 60)


async def test_every_metric_of_the_dashboard_and_the_rules_is_exported(
    fleet: Fleet, tmp_path: Path
) -> None:
    await _booted(fleet, tmp_path)
    declared: dict[str, set[str]] = {}  # metric name -> the process kinds that export it
    async with aiohttp.ClientSession() as session:
        for kind, port in fleet.ports().items():
            text = await _scrape(session, port)
            names, sampled = exported_names(text)
            # What the HELP/TYPE lines declare covers every sample (the suffixes are right).
            assert sampled <= names, (kind, sampled - names)
            assert "chargebus_ready 1.0" in text, kind  # ready, as /readyz said
            for name in names:
                declared.setdefault(name, set()).add(kind)
    used = used_metric_names()
    assert set(EXTERNAL).isdisjoint(declared)
    missing = {
        name: sorted(where)
        for name, where in used.items()
        if name not in declared and name not in EXTERNAL
    }
    assert missing == {}, "used by the dashboard or the rules, exported by no process"
    # The station's traffic made labelled series: a family's samples appeared under it.
    gateway_text = (await fleet.gateway.http_get("/metrics"))[1]
    assert 'chargebus_gateway_connections{ocpp_version="ocpp2.0.1"}' in gateway_text
    assert 'chargebus_gateway_frames_total{action="BootNotification"' in gateway_text
