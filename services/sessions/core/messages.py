"""Inbound records as the messages the sessions core handles (pure)."""

from contracts.envelope import Envelope
from contracts.payloads.billing import CostQuoted, PriceAnnounced
from contracts.payloads.ocpp import StationAnswer, StationCall
from contracts.payloads.presence import Presence
from services.sessions.core import remote_start, reports, reservations

Message = StationCall | Presence | StationAnswer | CostQuoted | PriceAnnounced


def parse(envelope: Envelope) -> Message | None:
    """A station's CALL, a presence change, a station's answer to a command we follow (remote
    start, reservations, report requests), billing's cost of a session or its price at a
    station; None for anything else (OCPP 2.1 SEND included: it is never answered) or for
    unusable payloads."""
    call = StationCall.parse(envelope)
    if call is not None:
        return None if call.send else call
    answer = StationAnswer.parse(envelope)
    if answer is not None:
        wanted = remote_start.ACTIONS | reservations.ACTIONS | reports.ACTIONS
        return answer if answer.action in wanted else None
    return Presence.parse(envelope) or CostQuoted.parse(envelope) or PriceAnnounced.parse(envelope)
