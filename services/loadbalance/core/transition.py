"""From one allocation to the next without passing through an overload (pure).

"When limits change, decreases are sent and accepted before increases, so the sum stays under
capacity during the change" (issue 12): the first stage lowers every limit that goes down and
leaves the others; the second raises the rest once the first is accepted. In between every
limit is the lower of old and new, so every sum is at most both the old sum and the new one.
A station that does not accept a decrease keeps counting at its old limit: the increases wait.
"""

from collections.abc import Mapping


def stages(
    old: Mapping[str, float], new: Mapping[str, float]
) -> tuple[dict[str, float], dict[str, float]]:
    """(decreases, increases): the limits to send first, and those to send once the first are
    accepted; a point that keeps its limit is in neither."""
    decreases = {k: v for k, v in new.items() if v < old.get(k, 0.0)}
    increases = {k: v for k, v in new.items() if v > old.get(k, 0.0)}
    return decreases, increases


def between(old: Mapping[str, float], new: Mapping[str, float]) -> dict[str, float]:
    """The limits while only the decreases are applied."""
    return {k: min(old.get(k, 0.0), new.get(k, 0.0)) for k in {*old, *new}}
