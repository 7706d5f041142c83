"""Benchmark (issue 11): the billing core's CDRs per second on one core, no Kafka.

Synthetic sessions (SessionStarted, --updates SessionUpdated, SessionEnded, as decoded
envelopes) go through the billing Partition exactly as the worker hands them over, priced with
a simple tariff (a start fee and a price per kWh) and with OCPI's complex example (tariff_4:
current, weekday and time-of-day restrictions, parking). Baseline in the same run: the same
records only parsed (what any consumer of sessions.v1 pays). Medians of --repeats.
    python -m bench.billing_core [--sessions 20000] [--updates 10] [--repeats 3] [--batch 500]
"simple" and "complex" are the core as a replay runs it (CDRs only); "live" is the simple tariff
as the worker runs it, which also prices the session at every update (CostQuoted, docs/billing.md
"Prices at the station"). Reading sessions.v1 from the broker comes on top.
"""

import argparse
import gc
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.harness import log
from contracts.envelope import Envelope
from contracts.events import DomainEvent, EventType
from contracts.payloads.billing import Scope, TariffAssigned, TariffDefined
from contracts.payloads.sessions import SessionEnded, SessionStarted, SessionUpdated
from services.billing.core.book import TariffBook
from services.billing.core.ocpi_json import dumps
from services.billing.core.partition import Partition, parse
from services.billing.core.station_costs import Display
from services.billing.rebuild import REPLAY

T0 = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SIMPLE = {
    "elements": [
        {
            "price_components": [
                {"type": "FLAT", "price": Decimal("0.50"), "vat": 21, "step_size": 1},
                {"type": "ENERGY", "price": Decimal("0.35"), "vat": 21, "step_size": 1},
            ]
        }
    ]
}
MODES = ("simple", "complex", "live")
WEEKDAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]


def _component(kind: str, price: str, step: int, vat: int) -> dict[str, Any]:
    return {"type": kind, "price": Decimal(price), "vat": vat, "step_size": step}


COMPLEX = {  # OCPI 2.2.1 examples/tariff_4_complex, as figures
    "elements": [
        {"price_components": [_component("FLAT", "2.50", 1, 15)]},
        {
            "price_components": [_component("TIME", "1.00", 900, 20)],
            "restrictions": {"max_current": 32},
        },
        {
            "price_components": [_component("TIME", "2.00", 600, 20)],
            "restrictions": {"min_current": 32, "day_of_week": WEEKDAYS},
        },
        {
            "price_components": [_component("TIME", "1.25", 600, 20)],
            "restrictions": {"min_current": 32, "day_of_week": ["SATURDAY", "SUNDAY"]},
        },
        {
            "price_components": [_component("PARKING_TIME", "5.00", 300, 10)],
            "restrictions": {"start_time": "09:00", "end_time": "18:00", "day_of_week": WEEKDAYS},
        },
        {
            "price_components": [_component("PARKING_TIME", "6.00", 300, 10)],
            "restrictions": {
                "start_time": "10:00",
                "end_time": "17:00",
                "day_of_week": ["SATURDAY"],
            },
        },
    ]
}


def book(elements: dict[str, Any]) -> TariffBook:
    tariff = {
        "country_code": "NL",
        "party_id": "CBS",
        "id": "BENCH",
        "currency": "EUR",
        "last_updated": "2026-11-01T00:00:00Z",
        **elements,
    }
    b = TariffBook()
    b.apply("tariff:BENCH", TariffDefined(tariff_id="BENCH", ocpi_json=dumps(tariff)).envelope())
    assigned = TariffAssigned(
        scope=Scope.DEFAULT, target=None, tariff_ids=("BENCH",), time_zone="Europe/Amsterdam"
    )
    b.apply(assigned.key, assigned.envelope())
    return b


def _record(event: DomainEvent, at: datetime) -> Envelope:
    return event.envelope(occurred_at=at)


def sessions(count: int, updates: int, first: int = 0, *, of: int | None = None) -> list[Envelope]:
    """``count`` sessions (numbered from ``first``) of 40 minutes to 4 hours, spread over a
    week, each with ``updates`` meter values (the last third parked), in the order sessions.v1
    carries them. With ``of`` (the number of sessions in all) they start in order through the
    week, as in a real log; without, the starts jump about the week."""
    records: list[Envelope] = []
    for n in range(first, first + count):
        station, tx = f"CS-{n % 5000:05d}", str(n)
        session = f"{station}/{tx}"
        week_s = 7 * 24 * 3600
        offset = n * week_s / of if of else (n * 37 * 60) % week_s
        start = T0 + timedelta(seconds=offset)
        minutes = 40 + (n * 13) % 200
        step = timedelta(minutes=minutes / (updates + 1))
        ids: dict[str, Any] = {"session_id": session, "station_id": station, "transaction_id": tx}
        started = SessionStarted(
            **ids,
            evse_id=1,
            connector_id=1,
            id_token="TOKEN",
            meter_start_wh=0.0,
            started_at=start,
            charging_state="Charging",
        )
        records.append(_record(started.event(), start))
        wh = 0.0
        for u in range(1, updates + 1):
            at = start + step * u
            parked = u > updates * 2 // 3
            wh += 0 if parked else 700.0 + (n % 7) * 100
            updated = SessionUpdated(
                **ids,
                energy_wh=wh,
                power_w=None,
                current_a=16.0 if n % 2 else 40.0,
                soc_percent=None,
                at=at,
                charging_state="SuspendedEV" if parked else "Charging",
            )
            records.append(_record(updated.event(), at))
        end = start + timedelta(minutes=minutes)
        ended = SessionEnded(
            **ids,
            energy_wh=wh,
            duration_s=minutes * 60.0,
            id_token="TOKEN",
            stop_reason="EVDisconnected",
            ended_at=end,
        )
        records.append(_record(ended.event(), end))
    return records


def timed(run: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    started = time.process_time()
    done = run()
    return time.process_time() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500, help="records per worker batch")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    log(f"building {args.sessions} sessions with {args.updates} updates each")
    records = sessions(args.sessions, args.updates)
    figures: dict[str, list[float]] = {"parse": [], "simple": [], "complex": [], "live": []}
    modes = (("simple", SIMPLE, REPLAY), ("complex", COMPLEX, REPLAY), ("live", SIMPLE, Display()))
    for repeat in range(args.repeats):
        seconds, _ = timed(lambda: sum(1 for r in records if parse(r) is not None))
        figures["parse"].append(seconds)
        for name, elements, show in modes:

            def run(elements: dict[str, Any] = elements, show: Display = show) -> int:
                p = Partition(0, book=book(elements), time_zone="Europe/Amsterdam", show=show)
                cdrs = 0
                for i, r in enumerate(records, 1):
                    step = p.handle(r)
                    events = [] if step is None else step.events
                    cdrs += sum(1 for e in events if e.event_type == EventType.CDR_ISSUED)
                    if i % args.batch == 0:
                        p.changes()  # the changelog records, once per batch as the worker does
                return cdrs

            seconds, cdrs = timed(run)
            assert cdrs == args.sessions, (name, cdrs)
            figures[name].append(seconds)
        log(
            f"run {repeat + 1}/{args.repeats}: "
            + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in figures.items())
        )
    medians = {k: statistics.median(v) for k, v in figures.items()}
    n_records = len(records)
    report = {
        "sessions": args.sessions,
        "records": n_records,
        "cpu_seconds_median": medians,
        "cdrs_per_second": {k: round(args.sessions / medians[k]) for k in MODES},
        "us_per_record": {k: round(v / n_records * 1e6, 1) for k, v in medians.items()},
        "ratio_to_parse": {k: round(medians[k] / medians["parse"], 1) for k in MODES},
        "one_million_sessions_minutes": {
            k: round(1_000_000 / (args.sessions / medians[k]) / 60, 1) for k in MODES
        },
    }
    print(json.dumps(report, indent=2))
    if args.out:
        with open(args.out, "w") as out:
            json.dump({"runs": figures, **report}, out, indent=2)


if __name__ == "__main__":
    main()
