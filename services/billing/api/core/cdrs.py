"""The CDRs an API instance shows: the recent ones of billing.cdrs.v1, bounded (pure)."""

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from contracts.envelope import Envelope
from contracts.http_api import Query, paged
from contracts.payloads.billing import CdrIssued

DEFAULT_RECENT = 100_000


class CdrsView:
    """CDRs by id, oldest first; at most ``recent`` (the oldest goes first). A CDR written
    again (same id) replaces itself."""

    def __init__(self, recent: int = DEFAULT_RECENT) -> None:
        self.recent = recent
        self._cdrs: OrderedDict[str, CdrIssued] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cdrs)

    def __iter__(self) -> Iterator[CdrIssued]:
        return iter(self._cdrs.values())

    def get(self, cdr_id: str) -> CdrIssued | None:
        return self._cdrs.get(cdr_id)

    def apply(self, envelope: Envelope) -> bool:
        issued = CdrIssued.parse(envelope)
        if issued is None:
            return False
        self._cdrs[issued.cdr_id] = issued
        self._cdrs.move_to_end(issued.cdr_id)
        while len(self._cdrs) > self.recent:
            self._cdrs.popitem(last=False)
        return True

    def listed(self, query: Query) -> dict[str, Any]:
        """``GET /cdrs``: newest first, by ``station_id``, ``session_id``, ``credit``."""
        station_id, session_id = query.string("station_id"), query.string("session_id")
        credit = query.boolean("credit")
        found = [
            c
            for c in reversed(self._cdrs.values())
            if (station_id is None or c.station_id == station_id)
            and (session_id is None or c.session_id == session_id)
            and (credit is None or c.credit == credit)
        ]
        page, counts = paged(query, found)
        return {"items": [cdr_json(c) for c in page], **counts}


def cdr_json(c: CdrIssued) -> dict[str, Any]:
    """The CDR document: the OCPI CDR and our ids."""
    return {
        "session_id": c.session_id,
        "station_id": c.station_id,
        "transaction_id": c.transaction_id,
        "cdr": dict(c.cdr),
    }
