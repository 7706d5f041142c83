"""Inbound records as the messages the sessions core handles (pure)."""

from contracts.envelope import Envelope
from contracts.payloads.ocpp import StationCall
from contracts.payloads.presence import Presence


def parse(envelope: Envelope) -> StationCall | Presence | None:
    """A station's CALL or a presence change; None for anything else (OCPP 2.1 SEND included:
    it is never answered) or for unusable payloads."""
    call = StationCall.parse(envelope)
    if call is not None:
        return None if call.send else call
    return Presence.parse(envelope)
