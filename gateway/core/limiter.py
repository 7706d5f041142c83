"""FailureLimiter: refuses a key for a growing cooldown after repeated failures (pure)."""

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(slots=True)
class _Failures:
    count: int
    last_failure: float
    blocked_until: float


class FailureLimiter:
    """Refuses a key (station id, remote address) for a growing cooldown after repeated failures.

    After ``max_failures`` failures, each further failure blocks the key for
    ``base_cooldown_s * 2**(n - max_failures)`` seconds, at most ``max_cooldown_s``. A key that
    has been quiet (no failure, not blocked) for ``window_s`` starts over. At most ``max_keys``
    keys are kept; the least recently failed go first. ``now`` is monotonic seconds.
    """

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 60.0,
        base_cooldown_s: float = 2.0,
        max_cooldown_s: float = 300.0,
        max_keys: int = 100_000,
    ) -> None:
        if max_failures < 1 or max_keys < 1:
            raise ValueError("max_failures and max_keys must be at least 1")
        self._max_failures = max_failures
        self._window_s = window_s
        self._base_cooldown_s = base_cooldown_s
        self._max_cooldown_s = max_cooldown_s
        self._max_keys = max_keys
        self._entries: OrderedDict[str, _Failures] = OrderedDict()  # oldest failure first

    def allow(self, key: str, now: float) -> bool:
        """Whether an attempt for ``key`` may be verified now."""
        entry = self._entries.get(key)
        return entry is None or now >= entry.blocked_until

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` is allowed again (0.0 if it is): the Retry-After value."""
        entry = self._entries.get(key)
        return 0.0 if entry is None else max(0.0, entry.blocked_until - now)

    def record_failure(self, key: str, now: float) -> None:
        self._evict_stale(now)
        entry = self._entries.pop(key, None)
        if entry is None or self._is_stale(entry, now):
            entry = _Failures(count=0, last_failure=now, blocked_until=now)
        entry.count += 1
        entry.last_failure = now
        if entry.count >= self._max_failures:
            doublings = min(entry.count - self._max_failures, 32)
            cooldown = min(self._max_cooldown_s, self._base_cooldown_s * 2**doublings)
            entry.blocked_until = max(entry.blocked_until, now + cooldown)
        self._entries[key] = entry
        while len(self._entries) > self._max_keys:
            self._entries.popitem(last=False)

    def record_success(self, key: str) -> None:
        self._entries.pop(key, None)

    def __len__(self) -> int:
        return len(self._entries)

    def _is_stale(self, entry: _Failures, now: float) -> bool:
        return now - max(entry.last_failure, entry.blocked_until) >= self._window_s

    def _evict_stale(self, now: float) -> None:
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if not self._is_stale(oldest, now):
                return
            self._entries.popitem(last=False)
