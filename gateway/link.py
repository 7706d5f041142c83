"""StationLink: one held station connection, with its socket, its OCPP-J session and what is in
flight on it (I/O: writes to the socket)."""

from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from contracts.headers import Headers
from contracts.payloads.commands import StationCommand
from gateway.core.bridge import Connection
from ocppj.session import Session


@dataclass(slots=True, eq=False)
class StationLink:
    """A held station connection: its socket, its session, and the calls in flight on it."""

    info: Connection
    session: Session
    ws: ServerConnection
    received_at: dict[str, float] = field(default_factory=dict)  # station CALL id -> when
    # by call id: the command, when it was sent, the trace headers it came with
    commands: dict[str, tuple[StationCommand, float, Headers]] = field(default_factory=dict)
    # span export on (runtime/tracing.py): station CALL id -> (traceparent, start ns, action)
    traced: dict[str, tuple[bytes, int, str]] = field(default_factory=dict)
    refused: bool = False  # closing for a policy violation: nothing more it sends goes on

    async def send_pending(self) -> None:
        """Put the session's outgoing frames on the wire; a closed socket drops them."""
        for text in self.session.data_to_send():
            try:
                await self.ws.send(text)
            except ConnectionClosed:
                return
