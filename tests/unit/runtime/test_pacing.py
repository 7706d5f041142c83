"""runtime.pacing: first-byte fetches while records come slowly or not at all, batches under
load, decided by the rate over whole windows of time."""

import pytest

from runtime.pacing import Pacing


class Reads:
    """A worker's reads against a clock of its own."""

    def __init__(self) -> None:
        self.pacing = Pacing()
        self.now = 1000.0

    def at(self, per_s: float, seconds: float, reads_per_s: float = 100) -> bool:
        """Reads at ``reads_per_s`` for ``seconds``, finding records at ``per_s``; the last
        decision."""
        first_byte = True
        interval = 1 / reads_per_s
        for _ in range(int(seconds * reads_per_s)):
            self.now += interval
            first_byte = self.pacing.first_byte(round(per_s * interval), self.now)
        return first_byte


@pytest.mark.parametrize(
    ("per_s", "first_byte"),
    [(0, True), (100, True), (300, True), (500, False), (2000, False)],
)
def test_steady_rates_below_the_threshold_ask_for_the_first_byte(
    per_s: float, first_byte: bool
) -> None:
    assert Reads().at(per_s, seconds=2) is first_byte


def test_a_read_that_found_nothing_asks_for_the_first_byte_even_under_load() -> None:
    reads = Reads()
    assert reads.at(2000, seconds=2) is False
    assert reads.pacing.first_byte(0, reads.now + 0.01) is True


def test_the_first_window_asks_for_the_first_byte_until_a_rate_is_known() -> None:
    pacing = Pacing()
    assert pacing.first_byte(100, 0.0) is True
    assert pacing.first_byte(100, 0.2) is True  # 200 records, but not half a second yet
    assert pacing.first_byte(100, 0.5) is False  # 300 records in half a second: 600/s
    assert pacing.per_s == pytest.approx(600)


def test_the_rate_follows_the_load_both_ways() -> None:
    reads = Reads()
    assert reads.at(2000, seconds=1) is False
    assert reads.at(100, seconds=1) is True
    assert reads.at(2000, seconds=1) is False
