"""JSON log lines for every process: one object per line, with station_id/correlation_id extras."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

# Extras that callers pass with `extra={...}` and that belong in the JSON object.
FIELDS = ("station_id", "correlation_id", "connection_id", "command_id", "action", "topic")


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object; never includes secrets (callers never pass them)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure(level: str = "INFO") -> None:
    """JSON lines on stderr; aiokafka's chatter only from WARNING up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLogger().level))
    logging.getLogger("websockets").setLevel(max(logging.WARNING, logging.getLogger().level))
