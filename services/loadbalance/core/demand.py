"""What a charging point may draw: its rating, its EV's, and what it measurably uses (pure).

Capacity an EV does not use goes to others, and comes back when the EV ramps up (the reference's
"sticky limitation", ev-server PR #1989 and #2039): a point measured well below its limit is
capped at its measured current plus ``BUFFER``; one that draws close to its limit wants more, and
its cap is lifted to its rating at the next allocation.
"""

BUFFER = 0.2  # 20 % above what it draws
# Drawing at least this share of its limit: lift the cap. Above 1 / (1 + BUFFER) (83 %), so
# that a point capped at what it draws plus 20 % stays capped while it draws the same: no
# flapping between the cap and its rating.
WANTS_MORE = 0.9


def max_current(
    rated_a: float,
    *,
    min_a: float,
    ev_max_a: float | None = None,
    measured_a: float | None = None,
    limit_a: float | None = None,
) -> float:
    """The most the point may be given (A per phase): its rating or its EV's maximum, less if
    it uses clearly less than its current limit, never below its minimum."""
    ceiling = rated_a if ev_max_a is None else min(rated_a, ev_max_a)
    if ceiling < min_a:
        return ceiling  # it may not charge now (a plan's 0, say): no minimum forced on it
    if measured_a is None or limit_a is None or limit_a <= 0:
        return ceiling
    if measured_a >= limit_a * WANTS_MORE:
        return ceiling  # ramping up, or held back by us: give it room again
    return max(min_a, min(ceiling, round(measured_a * (1 + BUFFER), 1)))
