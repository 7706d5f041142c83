"""Replay: CDRs recomputed from sessions.v1, set against the CDRs issued (pure).

``rebuild`` (services/billing/rebuild.py) feeds a period of sessions.v1 through a fresh
billing core, with today's tariffs or others from a file, and compares each session's
recomputed total with the total of the CDR in force for it on billing.cdrs.v1: what a tariff
fix would change, without touching what was issued.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from contracts.payloads.billing import CdrIssued


@dataclass
class InForce:
    """``in_force`` kept as CDRs arrive, with only what the comparison reads of each CDR (its
    end and total; ``lines`` says where the whole CDR was spooled)."""

    cdrs: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    issued: int = 0  # CDRs seen, credits included

    def add(self, c: CdrIssued, line: int) -> None:
        self.issued += 1
        if c.credit:
            reference = c.cdr.get("credit_reference_id")
            if reference is not None and self.cdrs.get(c.session_id, {}).get("id") == reference:
                del self.cdrs[c.session_id]
                self.lines.pop(c.session_id, None)
            return
        self.cdrs[c.session_id] = {
            "id": c.cdr["id"],
            "end_date_time": c.cdr["end_date_time"],
            "total_cost": {"excl_vat": c.cdr["total_cost"]["excl_vat"]},
        }
        self.lines[c.session_id] = line


def in_force(issued: Iterable[CdrIssued]) -> dict[str, Mapping[str, Any]]:
    """The CDR in force per session, in log order: the last one issued that was not credited
    (its id, end and total)."""
    found = InForce()
    for c in issued:
        found.add(c, -1)
    return found.cdrs


def _total(cdr: Mapping[str, Any]) -> Decimal:
    return Decimal(str(cdr["total_cost"]["excl_vat"]))


@dataclass(frozen=True, slots=True)
class Difference:
    session_id: str
    issued: Decimal | None  # excl. VAT; None: no CDR in force
    rebuilt: Decimal | None  # None: the replay did not end the session

    @property
    def delta(self) -> Decimal:
        return (self.rebuilt or Decimal(0)) - (self.issued or Decimal(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """How the replay's CDRs differ from the issued ones, for sessions ended in the period."""

    sessions: int
    same: int
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> int:
        return sum(1 for d in self.differences if d.issued is not None and d.rebuilt is not None)

    @property
    def only_issued(self) -> int:
        return sum(1 for d in self.differences if d.rebuilt is None)

    @property
    def only_rebuilt(self) -> int:
        return sum(1 for d in self.differences if d.issued is None)

    @property
    def delta(self) -> Decimal:
        return sum((d.delta for d in self.differences), Decimal(0))

    def summary(self, top: int = 10) -> dict[str, Any]:
        largest = sorted(self.differences, key=lambda d: abs(d.delta), reverse=True)[:top]
        return {
            "sessions": self.sessions,
            "same": self.same,
            "changed": self.changed,
            "only_issued": self.only_issued,
            "only_rebuilt": self.only_rebuilt,
            "delta_excl_vat": str(self.delta),
            "largest": [
                {
                    "session_id": d.session_id,
                    "issued": None if d.issued is None else str(d.issued),
                    "rebuilt": None if d.rebuilt is None else str(d.rebuilt),
                }
                for d in largest
            ],
        }


def compare(
    issued: Mapping[str, Mapping[str, Any]],
    rebuilt: Mapping[str, Mapping[str, Any]],
    *,
    since: datetime,
    until: datetime | None = None,
) -> Comparison:
    """Per session whose CDR (issued or rebuilt) ends in [since, until): the same total, or a
    difference."""

    def in_period(cdr: Mapping[str, Any]) -> bool:
        end = cdr["end_date_time"]
        return bool(end >= since and (until is None or end < until))

    sessions = sorted(
        {s for s, c in issued.items() if in_period(c)}
        | {s for s, c in rebuilt.items() if in_period(c)}
    )
    same, differences = 0, []
    for session_id in sessions:
        old, new = issued.get(session_id), rebuilt.get(session_id)
        before = None if old is None else _total(old)
        after = None if new is None else _total(new)
        if before is not None and before == after:
            same += 1
        else:
            differences.append(Difference(session_id, before, after))
    return Comparison(sessions=len(sessions), same=same, differences=tuple(differences))
