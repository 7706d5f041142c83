"""Metrics every process shares: readiness as a gauge, and a store that counts its events.

``chargebus_ready`` is what /readyz answers, for alerts on a process that stays not ready
(runtime/http.py sets it). ``Counted`` wraps a service's store (runtime/batch.py) so that the
service's shell sees every domain event its core writes, without a change to the pure core.
"""

import weakref
from collections.abc import Callable, Sequence

from prometheus_client import CollectorRegistry, Gauge

from contracts.envelope import Envelope
from contracts.events import DomainEvent
from runtime.batch import Handled, Store

_READY: "weakref.WeakKeyDictionary[CollectorRegistry, Gauge]" = weakref.WeakKeyDictionary()


def ready_gauge(registry: CollectorRegistry) -> Gauge:
    """``chargebus_ready`` on ``registry``, registered once per registry."""
    gauge = _READY.get(registry)
    if gauge is None:
        gauge = _READY[registry] = Gauge(
            "chargebus_ready", "1 while /readyz answers ready, else 0", registry=registry
        )
    return gauge


EventCount = Callable[[Sequence[DomainEvent]], None]


class Counted:
    """A store whose handled events ``count`` sees as the core returns them (before they are
    written: a record handled again after a crash counts again)."""

    __slots__ = ("_count", "_store")

    def __init__(self, store: Store, count: EventCount) -> None:
        self._store, self._count = store, count

    def restore(self, key: str, value: bytes | None) -> None:
        self._store.restore(key, value)

    def handle(self, envelope: Envelope) -> Handled | None:
        handled = self._store.handle(envelope)
        if handled is not None and handled.events:
            self._count(handled.events)
        return handled

    def changes(self) -> Sequence[tuple[str, bytes | None]]:
        return self._store.changes()
