"""`chargebus credentials import FILE`: station passwords in bulk, hashed here, never sent (I/O).

The CSV has a header ``station_id,password`` and optionally ``allowed_profiles`` (``1;2``).
Every row is checked first (the station id, OCPP's password lengths, the profiles); one bad row
and nothing is written, and the errors name their lines, never a password. Then the passwords
are hashed (Argon2id, the gateway's parameters) on every core at once (argon2 releases the
GIL), and each hash is written to ocpp.credentials.v1 as the gateway's `credentials set` would.
A progress bar on stderr shows how far it is.
"""

import asyncio
import csv
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from contracts import codec
from contracts.topics import Topic
from gateway.core.auth import (
    AuthError,
    SecurityProfile,
    check_new_password,
    check_station_id,
    credential_envelope,
    hash_password,
)
from runtime.kafka import reliable_producer, start_bounded


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    station_id: str
    password: bytes = field(repr=False)  # never in a repr, hence never in a log
    profiles: frozenset[SecurityProfile] | None = None


def read_rows(lines: Iterable[str]) -> tuple[list[Row], list[str]]:
    """The rows of the CSV and the errors, by line (pure)."""
    reader = csv.DictReader(lines)
    columns = set(reader.fieldnames or ())
    if not {"station_id", "password"} <= columns:
        return [], ["line 1: the header must name station_id and password"]
    unknown = columns - {"station_id", "password", "allowed_profiles"}
    if unknown:
        return [], [f"line 1: unknown columns {', '.join(sorted(unknown))}"]
    rows, errors, seen = [], [], set[str]()
    for number, record in enumerate(reader, start=2):
        station_id = (record.get("station_id") or "").strip()
        password = (record.get("password") or "").encode()
        try:
            check_station_id(station_id)
            check_new_password(password)
            profiles = _profiles(record.get("allowed_profiles") or "")
        except (AuthError, ValueError) as error:
            errors.append(f"line {number} ({station_id or 'no station id'}): {error}")
            continue
        if station_id in seen:
            errors.append(f"line {number} ({station_id}): the station is in the file twice")
            continue
        seen.add(station_id)
        rows.append(Row(number, station_id, password, profiles))
    return rows, errors


def _profiles(text: str) -> frozenset[SecurityProfile] | None:
    """Raises: ValueError: not profiles 1-3 separated by ';'."""
    if not text.strip():
        return None
    try:
        found = frozenset(SecurityProfile(int(p)) for p in text.split(";") if p.strip())
    except ValueError:
        raise ValueError(f"allowed_profiles {text!r} is not like 1;2 (profiles 1 to 3)") from None
    return found


class Progress:
    """A bar on a terminal, a line per tenth elsewhere (a CI log)."""

    def __init__(self, total: int, out: TextIO, what: str) -> None:
        self.total, self.out, self.what = total, out, what
        self.done, self.started, self._tenth = 0, time.monotonic(), -1
        self.tty = out.isatty()

    def step(self, count: int = 1) -> None:
        self.done += count
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        if self.tty:
            filled = 30 * self.done // max(self.total, 1)
            bar = "#" * filled + " " * (30 - filled)
            self.out.write(f"\r[{bar}] {self.done}/{self.total} {self.what} {rate:.0f}/s")
            if self.done >= self.total:
                self.out.write("\n")
        elif (tenth := 10 * self.done // max(self.total, 1)) != self._tenth:
            self._tenth = tenth
            self.out.write(f"{self.done}/{self.total} {self.what} ({rate:.0f}/s)\n")
        self.out.flush()


async def import_rows(
    bootstrap: str,
    rows: Sequence[Row],
    *,
    progress: Callable[[int], None],
    connect_timeout_s: float = 15.0,
    workers: int | None = None,
) -> None:
    """Hash and publish ``rows``; returns once the broker acknowledged every record.

    Raises:
        KafkaUnavailable: the broker cannot be reached; PublishFailed: a record not acknowledged.
    """
    producer = reliable_producer(bootstrap, linger_ms=5)
    await start_bounded(producer, bootstrap, connect_timeout_s)
    loop = asyncio.get_running_loop()
    now = datetime.now(UTC)
    try:
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            hashing = [loop.run_in_executor(pool, hash_password, row.password) for row in rows]
            sends = []
            for row, hashed in zip(rows, hashing, strict=True):
                envelope = credential_envelope(
                    row.station_id, await hashed, set_at=now, allowed_profiles=row.profiles
                )
                sends.append(
                    await producer.send(
                        Topic.CREDENTIALS, codec.encode(envelope), key=row.station_id.encode()
                    )
                )
                progress(1)
            await asyncio.gather(*sends)
    finally:
        await producer.stop()


def read_file(path: Path) -> list[str]:
    """Raises: OSError: the file cannot be read."""
    with path.open(newline="", encoding="utf-8") as handle:
        return handle.read().splitlines()


__all__ = ["Progress", "Row", "import_rows", "read_file", "read_rows", "sys"]
