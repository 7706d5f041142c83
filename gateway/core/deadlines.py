"""The next deadline of each station link, in a heap: the due ones without a scan (pure).

The timer task used to ask every link with a pending deadline for it at each tick (0.1 s):
during a 10,000-station reconnect storm, thousands of links wait for their BootNotification's
answer, and that scan took 10 % of the gateway's CPU (py-spy, docs/benchmarks.md). A heap pops
only what is due. An entry whose link was rescheduled or forgotten since is stale: skipped when
popped, and the heap is rebuilt from the live entries when stale ones outnumber them.
"""

import heapq
import itertools
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

COMPACT_ABOVE = 1024  # stale entries tolerated before a rebuild, whatever the live count


class Deadlines(Generic[K]):
    """At most one deadline per key; ``due(now)`` takes out the keys whose deadline passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._at: dict[K, float] = {}  # the live deadline of each key
        self._order = itertools.count()  # keys need not be comparable: ties go by insertion

    def __len__(self) -> int:
        return len(self._at)

    def __contains__(self, key: K) -> bool:
        return key in self._at

    def schedule(self, key: K, deadline: float | None) -> None:
        """``key``'s deadline is now ``deadline``; None: it has none."""
        if deadline is None:
            self._at.pop(key, None)
            return
        if self._at.get(key) == deadline:
            return  # already in the heap
        self._at[key] = deadline
        heapq.heappush(self._heap, (deadline, next(self._order), key))
        if len(self._heap) > 2 * len(self._at) + COMPACT_ABOVE:
            self._compact()

    def forget(self, key: K) -> None:
        self._at.pop(key, None)

    def due(self, now: float) -> list[K]:
        """The keys whose deadline is at or before ``now``, earliest first; they are
        unscheduled (``schedule`` them again if they still have one)."""
        due: list[K] = []
        heap, at = self._heap, self._at
        while heap and heap[0][0] <= now:
            deadline, _, key = heapq.heappop(heap)
            if at.get(key) == deadline:  # not stale
                del at[key]
                due.append(key)
        return due

    def _compact(self) -> None:
        self._heap = [(d, next(self._order), k) for k, d in self._at.items()]
        heapq.heapify(self._heap)
