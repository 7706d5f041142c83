"""The OCPP versions we speak, their names, and subprotocol negotiation (pure)."""

from collections.abc import Sequence
from enum import StrEnum


class OcppVersion(StrEnum):
    """An OCPP version; the value is its WebSocket subprotocol name (OCPP-J 2.0.1 §3.1.2)."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"
    V21 = "ocpp2.1"


def version_named(value: object) -> OcppVersion | None:
    """The version a payload names: "ocpp1.6" or "1.6", "ocpp2.0.1" or "2.0.1", ...; None for
    anything else."""
    if not isinstance(value, str):
        return None
    name = value if value.startswith("ocpp") else f"ocpp{value}"
    try:
        return OcppVersion(name)
    except ValueError:
        return None


# Newest first: OCPP-J 2.0.1 §3.2 lets the server choose among what the station offers.
SERVER_PREFERENCE: tuple[OcppVersion, ...] = (OcppVersion.V21, OcppVersion.V201, OcppVersion.V16)


def select_subprotocol(
    offered: Sequence[str], enabled: Sequence[OcppVersion] = SERVER_PREFERENCE
) -> OcppVersion | None:
    """Pick the first of ``enabled`` (server order) that the station listed in ``offered``.

    Returns None when there is no common version: OCPP-J 2.0.1 §3.2 then wants the handshake
    completed without a Sec-WebSocket-Protocol header and the connection closed at once.
    Subprotocol names are compared exactly (RFC 6455 §4.1 tokens are case-sensitive).
    """
    offered_set = set(offered)
    return next((version for version in enabled if version in offered_set), None)
