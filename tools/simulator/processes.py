"""Split one run across worker processes and merge their summaries (I/O: multiprocessing)."""

import asyncio
import dataclasses
import logging
import multiprocessing
import queue as queue_module
import signal
from collections.abc import Callable
from multiprocessing.queues import Queue
from typing import Any

from tools.simulator.report import Progress, Summary, Tally, merge
from tools.simulator.runner import SimulatorConfig, run

GRACE_S = 60.0  # beyond the duration: connecting, closing, starting Python


def split(config: SimulatorConfig, processes: int) -> list[SimulatorConfig]:
    """Consecutive station numbers per process; rates shared out; one seed each."""
    configs, first = [], config.first_index
    for i in range(processes):
        stations = config.stations // processes + (1 if i < config.stations % processes else 0)
        if stations == 0:
            continue
        share = stations / config.stations
        configs.append(
            dataclasses.replace(
                config,
                stations=stations,
                first_index=first,
                connect_rate=config.connect_rate * share,
                rate=None if config.rate is None else config.rate * share,
                seed=config.seed + i,
                expect_accepted=None,
            )
        )
        first += stations
    return configs


def _child(config: SimulatorConfig, index: int, results: "Queue[Any]") -> None:
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_child_run(config, index, results))


async def _child_run(config: SimulatorConfig, index: int, results: "Queue[Any]") -> None:
    stop = asyncio.Event()  # SIGINT (Ctrl-C reaches the whole group) or SIGTERM: end early
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)

    def progress(p: Progress) -> None:
        results.put(("progress", index, dataclasses.asdict(p)))

    summary = await run(config, progress, stop=stop)
    results.put(("summary", index, summary.to_json()))


async def run_processes(
    config: SimulatorConfig,
    processes: int,
    progress: Callable[[Progress], None] | None = None,
    *,
    stop: asyncio.Event | None = None,
) -> Summary:
    """Like ``runner.run``, with the stations spread over ``processes`` Python processes."""
    config.check()
    configs = split(config, processes)
    context = multiprocessing.get_context("spawn")
    results: Queue[Any] = context.Queue()
    workers = [
        context.Process(target=_child, args=(c, i, results), daemon=True)
        for i, c in enumerate(configs)
    ]
    for worker in workers:
        worker.start()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + config.duration_s + GRACE_S
    latest: dict[int, Progress] = {}
    summaries: dict[int, Summary] = {}
    stopped = False
    try:
        while len(summaries) < len(workers) and loop.time() < deadline:
            if stop is not None and stop.is_set() and not stopped:
                stopped = True
                for worker in workers:
                    worker.terminate()  # SIGTERM: the worker ends its run and reports
            message = await loop.run_in_executor(None, _get, results)
            if message is None:
                if all(worker.exitcode is not None for worker in workers):
                    break  # and the queue is empty
                continue
            kind, index, data = message
            if kind == "summary":
                summaries[index] = Summary.from_json(data)
            elif progress is not None:
                latest[index] = Progress(**data)
                progress(_add(list(latest.values())))
    finally:
        for worker in workers:
            worker.join(timeout=5.0)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5.0)
    _collect_dead(workers, configs, summaries)
    return merge(list(summaries.values()), expect_accepted=config.expect_accepted)


def _get(results: "Queue[Any]") -> Any:
    try:
        return results.get(timeout=1.0)
    except queue_module.Empty:
        return None


def _collect_dead(
    workers: list[Any], configs: list[SimulatorConfig], summaries: dict[int, Summary]
) -> None:
    """A worker that ended without a summary counts as one ProcessFailed error."""
    for index, worker in enumerate(workers):
        if index not in summaries:
            tally = Tally()
            tally.errors[f"ProcessFailed exit {worker.exitcode}"] += 1
            summaries[index] = Summary(
                stations=configs[index].stations,
                versions={},
                duration_s=0.0,
                accepted=0,
                tally=tally,
            )


def _add(parts: list[Progress]) -> Progress:
    return Progress(
        elapsed_s=max(p.elapsed_s for p in parts),
        connected=sum(p.connected for p in parts),
        booted=sum(p.booted for p in parts),
        sent=sum(p.sent for p in parts),
        answers=sum(p.answers for p in parts),
        errors=sum(p.errors for p in parts),
        rate_per_s=sum(p.rate_per_s for p in parts),
    )
