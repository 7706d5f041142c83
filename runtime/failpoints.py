"""Failpoints: kill this process with SIGKILL at a named point, for crash tests (I/O).

Off unless the environment sets ``CHARGEBUS_FAILPOINT`` to ``name`` or ``name:text``; with
``text``, the point fires only when one of the records passed to it contains that text (for
example an event type). Crash tests use it to kill a worker between two writes, a moment a
signal from outside cannot hit reliably.
"""

import os
import signal
from collections.abc import Iterable
from typing import Protocol

ENV = "CHARGEBUS_FAILPOINT"
_ARMED = os.environ.get(ENV, "")


class HasValue(Protocol):
    @property
    def value(self) -> bytes | None: ...


def armed(spec: str, name: str, records: Iterable[HasValue]) -> bool:
    """Whether ``spec`` (the environment value) fires at ``name`` for ``records``."""
    point, _, text = spec.partition(":")
    if point != name:
        return False
    if not text:
        return True
    needle = text.encode()
    return any(r.value is not None and needle in r.value for r in records)


def failpoint(name: str, records: Iterable[HasValue] = ()) -> None:
    """SIGKILL this process here if the failpoint ``name`` is armed for ``records``."""
    if _ARMED and armed(_ARMED, name, records):
        os.kill(os.getpid(), signal.SIGKILL)
