"""How the worker's fetches wait: for the first byte at low rates, in batches under load (pure).

A fetch that batches waits until 32 KiB are there or 5 ms have passed. Under load that gives
fewer, larger batches, each of which costs a fetch and three produce requests whatever it
holds. Below a few hundred records a second the 5 ms hold less than two records, so batching
only delays each record by up to 5 ms, and most of the fetches come back empty. There a fetch
that asks for the first byte comes back as soon as a record arrives (docs/benchmarks.md, issue
14). The rate is counted over windows of wall time, not read from a batch's size: in either
mode the batch sizes follow the mode, so they cannot choose it.
"""

from dataclasses import dataclass

BATCHING_FROM_PER_S = 400.0  # 5 ms then hold two records
WINDOW_S = 0.5


@dataclass
class Pacing:
    """Whether the next fetches should ask for the first byte, from the reads so far."""

    batching_from_per_s: float = BATCHING_FROM_PER_S
    window_s: float = WINDOW_S
    per_s: float = 0.0  # records a second over the last whole window
    _window_start: float | None = None
    _counted: int = 0

    def first_byte(self, records: int, now: float) -> bool:
        """After a read that found ``records`` at ``now`` (monotonic seconds): True if the next
        fetches should ask for the first byte, False if they should batch."""
        if self._window_start is None:
            self._window_start = now
        self._counted += records
        elapsed = now - self._window_start
        if elapsed >= self.window_s:
            self.per_s = self._counted / elapsed
            self._window_start, self._counted = now, 0
        return records == 0 or self.per_s < self.batching_from_per_s
