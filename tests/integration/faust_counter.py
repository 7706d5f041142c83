"""A minimal faust app for the changelog-recovery test: counts envelopes per key into a table."""

import json
import os
from pathlib import Path

import faust

from contracts.codec import decode
from runtime.settings import bootstrap_servers

app = faust.App(
    os.environ.get("COUNTER_APP_ID", "chargebus-counter"),
    broker=f"kafka://{bootstrap_servers(os.environ)}",
    store="memory://",  # nothing on disk: a restarted worker can only recover from the changelog
    value_serializer="raw",
    key_serializer="raw",
    topic_partitions=int(os.environ.get("COUNTER_PARTITIONS", "2")),
    topic_replication_factor=1,
    processing_guarantee="at_least_once",
    broker_commit_interval=0.2,
    # A SIGKILLed member stays in the group until its session times out: keep that short.
    broker_session_timeout=6.0,
    broker_heartbeat_interval=0.5,
    web_enabled=False,
)
source = app.topic(
    os.environ.get("COUNTER_TOPIC", "counter-input"),
    partitions=int(os.environ.get("COUNTER_PARTITIONS", "2")),
)
counts = app.Table("counts", default=int, partitions=int(os.environ.get("COUNTER_PARTITIONS", "2")))
dump_path = Path(os.environ.get("COUNTER_DUMP", "counter.json"))


@app.agent(source)
async def count(stream: faust.StreamT[bytes]) -> None:
    async for value in stream:
        counts[decode(value).key] += 1


@app.timer(0.1)  # type: ignore[untyped-decorator]
async def dump() -> None:
    """Write the table and whether recovery finished, atomically, for the test to read."""
    state = {
        "recovered": app.tables.recovery.completed.is_set(),  # type: ignore[attr-defined]
        "counts": dict(counts.items()),
    }
    tmp = dump_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(dump_path)


if __name__ == "__main__":
    app.main()
