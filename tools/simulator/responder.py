"""A minimal in-process CSMS over plain websockets, no Kafka: test peer and baseline (I/O).

    async with serve_responder("127.0.0.1", 0) as responder:
        config = SimulatorConfig(url=responder.url, ...)

or ``python -m tools.simulator.responder --port 9000``.
"""

import argparse
import asyncio
import contextlib
import hmac
import json
import logging
import signal
import ssl
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidHeader
from websockets.headers import parse_authorization_basic
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from tools.simulator.answers import Csms
from tools.simulator.checking import CHECKS, Check, check_named
from tools.simulator.commands import KNOWN_ACTIONS
from tools.simulator.frames import (
    Call,
    CallError,
    CallResult,
    Frame,
    MalformedFrame,
    call_text,
    error_text,
    parse,
    result_text,
)
from tools.simulator.payloads import Version

log = logging.getLogger(__name__)

SUBPROTOCOLS = {"ocpp1.6": Version.V16, "ocpp2.0.1": Version.V201}


@dataclass(slots=True, eq=False)
class _Peer:
    ws: ServerConnection
    version: Version
    pending: dict[str, "asyncio.Future[Frame]"] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one CSMS CALL in flight


@dataclass(slots=True, eq=False, kw_only=True)
class Responder:
    host: str
    port: int = 0
    csms: Csms = field(default_factory=Csms)
    password: str | None = field(default=None, repr=False)
    check: Check | None = None  # validates CALLs received and answers sent (checking.py)
    peers: dict[str, _Peer] = field(default_factory=dict)  # station_id -> newest connection
    received: Counter[str] = field(default_factory=Counter)  # station CALLs, by action
    connections: int = 0
    _next_id: int = 0
    _received_more: asyncio.Event | None = None  # only while someone waits

    async def wait_for(self, action: str, count: int) -> None:
        """Until ``count`` station CALLs of ``action`` have arrived (use under a timeout)."""
        while self.received[action] < count:
            self._received_more = asyncio.Event()
            await self._received_more.wait()

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}/ocpp"

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any], timeout_s: float = 10.0
    ) -> CallResult | CallError:
        """Send a CSMS-initiated CALL and wait for its answer.

        Raises:
            KeyError: if the station is not connected.
            TimeoutError: if it does not answer in time.
        """
        peer = self.peers[station_id]
        async with peer.lock:
            self._next_id += 1
            unique_id = f"csms-{self._next_id}"
            answer = peer.pending[unique_id] = asyncio.get_running_loop().create_future()
            try:
                await peer.ws.send(call_text(unique_id, action, payload))
                async with asyncio.timeout(timeout_s):
                    frame = await answer
            finally:
                peer.pending.pop(unique_id, None)
        assert isinstance(frame, CallResult | CallError)
        return frame

    def authorize(self, connection: ServerConnection, request: Request) -> Response | None:
        """Security profile 1: the Basic username must be the station id in the path."""
        if self.password is None:
            return None
        station_id = unquote(request.path.rsplit("/", 1)[-1])
        try:
            username, password = parse_authorization_basic(request.headers["Authorization"])
        except (KeyError, InvalidHeader):
            username, password = "", ""
        if username == station_id and hmac.compare_digest(password, self.password):
            return None
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="ocpp"'
        return response

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None  # set once the handshake is complete
        station_id = unquote(ws.request.path.rsplit("/", 1)[-1])
        peer = _Peer(ws, SUBPROTOCOLS.get(ws.subprotocol or "", Version.V16))
        self.peers[station_id] = peer
        self.connections += 1
        try:
            async for message in ws:
                if isinstance(message, str) and (reply := self._reply(peer, message)):
                    await ws.send(reply)
        except ConnectionClosed:
            pass  # otherwise websockets logs "connection handler failed"
        finally:
            if self.peers.get(station_id) is peer:
                del self.peers[station_id]

    def _reply(self, peer: _Peer, text: str) -> str | None:
        try:
            frame = parse(text)
        except MalformedFrame:
            self.received["(malformed)"] += 1
            return None
        if not isinstance(frame, Call):
            if (answer := peer.pending.get(frame.unique_id)) is not None and not answer.done():
                answer.set_result(frame)
            return None
        self.received[frame.action] += 1
        if self._received_more is not None:
            self._received_more.set()
        check = self.check
        if check is not None and (code := check(peer.version, frame.action, frame.payload, False)):
            return error_text(frame.unique_id, code)
        payload = self.csms.answer(peer.version, frame.action, frame.payload, time.time())
        if payload is not None:
            if check is not None and (code := check(peer.version, frame.action, payload, True)):
                raise RuntimeError(f"our {frame.action} answer is invalid: {code}")
            return result_text(frame.unique_id, payload)
        known = frame.action in KNOWN_ACTIONS[peer.version]
        return error_text(frame.unique_id, "NotSupported" if known else "NotImplemented")


@contextlib.asynccontextmanager
async def serve_responder(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    heartbeat_interval_s: int = 60,
    boot_status: str = "Accepted",
    password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    validate: str = "none",
) -> AsyncIterator[Responder]:
    """Serve until the block ends; ``port=0`` picks a free port (``responder.port``);
    ``validate``: one of checking.CHECKS."""
    csms = Csms(heartbeat_interval_s=heartbeat_interval_s, boot_status=boot_status)
    check = check_named(validate)
    responder = Responder(host=host, csms=csms, password=password, check=check)
    server: Server
    async with serve(
        responder.handle,
        host,
        port,
        subprotocols=[Subprotocol(name) for name in SUBPROTOCOLS],
        process_request=responder.authorize,
        ssl=ssl_context,
        max_size=2**20,
        ping_interval=None,  # the stations ping
    ) as server:
        responder.port = server.sockets[0].getsockname()[1]
        yield responder


async def _main(args: argparse.Namespace, password: str | None) -> None:
    context = None
    if args.certfile:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=args.cafile)
        context.load_cert_chain(args.certfile, args.keyfile)
        if args.cafile:
            context.verify_mode = ssl.CERT_REQUIRED  # security profile 3: mTLS
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with serve_responder(
        args.host,
        args.port,
        heartbeat_interval_s=args.heartbeat_interval,
        boot_status=args.boot_status,
        password=password,
        ssl_context=context,
        validate=args.validate,
    ) as responder:
        scheme = "wss" if context else "ws"
        print(f"responder listening on {scheme}://{args.host}:{responder.port}/ocpp", flush=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(args.duration):
                await stop.wait()
        print(json.dumps({"connections": responder.connections, "received": responder.received}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.simulator.responder",
        description="A minimal OCPP 1.6/2.0.1 CSMS that accepts everything (no Kafka): the "
        "simulator's test peer and the gateway benchmark's baseline.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [%(default)s]")
    parser.add_argument("--port", type=int, default=9000, help="0: any free port [%(default)s]")
    parser.add_argument(
        "--heartbeat-interval",
        type=int,
        default=60,
        metavar="S",
        help="interval in BootNotification answers [%(default)s]",
    )
    parser.add_argument(
        "--boot-status",
        choices=["Accepted", "Pending", "Rejected"],
        default="Accepted",
        help="BootNotification status [%(default)s]",
    )
    parser.add_argument(
        "--password-file",
        metavar="FILE",
        help="require HTTP Basic auth (user: station id) with this password",
    )
    parser.add_argument(
        "--validate",
        choices=CHECKS,
        default="none",
        help="validate every CALL received and answer sent: with the `ocpp` library, or with "
        "chargebus's compiled validators; an invalid CALL gets a CALLERROR [%(default)s]",
    )
    parser.add_argument("--certfile", help="serve wss:// with this certificate chain (PEM)")
    parser.add_argument("--keyfile", help="the private key of --certfile")
    parser.add_argument("--cafile", help="require client certificates signed by this CA (mTLS)")
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="stop after this many seconds [run until Ctrl-C]",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    password = Path(args.password_file).read_text().strip() if args.password_file else None
    asyncio.run(_main(args, password))
    return 0


if __name__ == "__main__":
    sys.exit(main())
