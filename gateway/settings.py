"""The gateway's settings and its command line (pure: parses argv and an environment mapping)."""

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ocppj.versions import SERVER_PREFERENCE, OcppVersion
from runtime.settings import BOOTSTRAP_ENV, bootstrap_servers


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    host: str = "0.0.0.0"
    port: int = 9000
    http_host: str = "0.0.0.0"
    http_port: int = 9100
    instance: int = 0
    path_prefix: str = "/ocpp"
    ocpp_versions: tuple[OcppVersion, ...] = SERVER_PREFERENCE
    lenient: bool = False
    answer_timeout_s: float = 25.0
    call_timeout_s: float = 30.0
    max_frame_bytes: int = 65536
    ping_interval_s: float | None = 20.0
    # Connections the kernel completes before we accept them. Python's default of 100 made a
    # reconnect storm overflow it: dropped SYNs, retried by the stations 1, 3, 7, 15 s later
    # (10,000 stations Accepted after 43 s instead of 14; docs/benchmarks.md, issue 14). The
    # kernel caps it at net.core.somaxconn (4096 on Linux since 5.4).
    listen_backlog: int = 4096
    drain_timeout_s: float = 10.0
    heartbeat_s: float = 5.0  # GatewayAlive to every partition of ocpp.presence.v1 this often
    lease_s: float = 15.0  # ... and readers take the gateway for gone this long after the last
    timer_resolution_s: float = 0.1
    security_profile: int = 1
    accept_unknown_stations: bool = False
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    # profile 3: the client certificate's CN must be the station identity ("identity"), or any
    # CN, bound to the serial number the station boots with ("serial"; docs/certificates.md)
    client_cn: str = "identity"
    bootstrap_servers: str = "127.0.0.1:9092"
    linger_ms: int = 0
    fetch_max_wait_ms: int = 500  # measured: no faster at 5 or 100 (docs/benchmarks.md)
    connect_timeout_s: float = 15.0
    trace_sample_ratio: float = 1.0  # new traces (one per station CALL) with the sampled flag
    log_level: str = "INFO"


def _instance(value: str) -> int:
    """A number, or a StatefulSet pod name such as `gateway-3` (the ordinal is its suffix)."""
    suffix = value.rsplit("-", 1)[-1]
    if not suffix.isdigit():
        raise argparse.ArgumentTypeError(f"not an instance number or pod name: {value!r}")
    return int(suffix)


def parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="python -m gateway",
        description="chargebus gateway: holds station WebSockets (OCPP-J 1.6, 2.0.1, 2.1) and "
        "moves their frames to and from Kafka. Subcommand `credentials` manages station "
        f"passwords (python -m gateway credentials --help). Kafka address: ${BOOTSTRAP_ENV}.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default=d.host, help="WebSocket listen address")
    p.add_argument("--port", type=int, default=d.port, help="WebSocket port")
    p.add_argument("--http-host", default=d.http_host, help="metrics/health listen address")
    p.add_argument("--http-port", type=int, default=d.http_port, help="/metrics, /healthz, /readyz")
    p.add_argument(
        "--instance",
        type=_instance,
        default=environ.get("GATEWAY_INSTANCE", "0"),
        help="this gateway's inbox partition k: a number or a StatefulSet pod name "
        "(gateway-3 -> 3); default $GATEWAY_INSTANCE, which Kubernetes sets from the pod index",
    )
    p.add_argument("--path-prefix", default=d.path_prefix, help="stations connect to PREFIX/{id}")
    p.add_argument(
        "--ocpp-versions",
        default=",".join(v.value for v in d.ocpp_versions),
        help="subprotocols to accept, in the server's order of preference",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="accept known real-station schema deviations (docs/ocpp-validation.md)",
    )
    p.add_argument(
        "--answer-timeout",
        type=float,
        default=d.answer_timeout_s,
        help="seconds to wait for a service's answer before CALLERROR InternalError",
    )
    p.add_argument(
        "--call-timeout",
        type=float,
        default=d.call_timeout_s,
        help="seconds a station has to answer a command",
    )
    p.add_argument(
        "--max-frame-bytes",
        type=int,
        default=d.max_frame_bytes,
        help="larger frames get a CALLERROR (4x larger ones close the socket)",
    )
    p.add_argument("--ping-interval", type=float, default=d.ping_interval_s, help="0 disables")
    p.add_argument(
        "--listen-backlog",
        type=int,
        default=d.listen_backlog,
        help="connections the kernel may complete before the gateway accepts them (a "
        "reconnect storm needs room; capped by net.core.somaxconn)",
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=d.drain_timeout_s,
        help="on SIGTERM, seconds to let in-flight calls finish before closing with 1001",
    )
    p.add_argument(
        "--heartbeat-interval",
        type=float,
        default=d.heartbeat_s,
        help="seconds between GatewayAlive records on ocpp.presence.v1 (docs/gateway.md)",
    )
    p.add_argument(
        "--lease",
        type=float,
        default=d.lease_s,
        help="seconds after the last GatewayAlive at which readers take this gateway's "
        "stations for offline; more than twice --heartbeat-interval",
    )
    p.add_argument(
        "--security-profile",
        type=int,
        choices=(0, 1, 2, 3),
        default=d.security_profile,
        help="0: no auth (dev only); 1: HTTP Basic; 2: TLS + Basic; 3: mutual TLS",
    )
    p.add_argument(
        "--accept-unknown-stations",
        action="store_true",
        help="onboarding: let stations without a credential connect",
    )
    p.add_argument("--tls-cert", help="server certificate (PEM), profiles 2 and 3")
    p.add_argument("--tls-key", help="server private key (PEM)")
    p.add_argument("--tls-client-ca", help="CA that signs station certificates (profile 3)")
    p.add_argument(
        "--client-cn",
        choices=("identity", "serial"),
        default=d.client_cn,
        help="profile 3: the certificate's CN must equal the station identity in the URL, or "
        "(serial) may be any CN, which the station's BootNotification serial number must equal",
    )
    p.add_argument("--bootstrap-servers", default=bootstrap_servers(environ))
    p.add_argument("--linger-ms", type=int, default=d.linger_ms, help="producer batching delay")
    p.add_argument(
        "--fetch-max-wait-ms",
        type=int,
        default=d.fetch_max_wait_ms,
        help="inbox long-poll wait: lower is faster replies, more fetches",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=d.connect_timeout_s,
        help="seconds to reach Kafka at start before giving up",
    )
    p.add_argument(
        "--trace-sample-ratio",
        type=float,
        default=d.trace_sample_ratio,
        help="share of station CALLs whose new trace is sampled (the traceparent's flag, which "
        "services follow when they export spans; docs/tracing.md)",
    )
    p.add_argument("--log-level", default=d.log_level)
    return p


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> Settings:
    """Settings from the command line.

    Raises:
        SystemExit: on bad options (argparse prints why).
    """
    p = parser(environ)
    a = p.parse_args(argv)
    try:
        versions = tuple(OcppVersion(v.strip()) for v in a.ocpp_versions.split(",") if v.strip())
    except ValueError as exc:
        p.error(f"--ocpp-versions: {exc}")
    if a.security_profile >= 2 and not (a.tls_cert and a.tls_key):
        p.error(f"--security-profile {a.security_profile} needs --tls-cert and --tls-key")
    if a.security_profile == 3 and not a.tls_client_ca:
        p.error("--security-profile 3 needs --tls-client-ca")
    if not 0 <= a.trace_sample_ratio <= 1:
        p.error("--trace-sample-ratio must be between 0 and 1")
    if not 0 < 2 * a.heartbeat_interval < a.lease:
        p.error(
            "--lease must be more than twice --heartbeat-interval (one lost heartbeat is no death)"
        )
    return Settings(
        host=a.host,
        port=a.port,
        http_host=a.http_host,
        http_port=a.http_port,
        instance=a.instance,
        path_prefix=a.path_prefix,
        ocpp_versions=versions,
        lenient=a.lenient,
        answer_timeout_s=a.answer_timeout,
        call_timeout_s=a.call_timeout,
        max_frame_bytes=a.max_frame_bytes,
        ping_interval_s=a.ping_interval or None,
        listen_backlog=a.listen_backlog,
        drain_timeout_s=a.drain_timeout,
        heartbeat_s=a.heartbeat_interval,
        lease_s=a.lease,
        security_profile=a.security_profile,
        accept_unknown_stations=a.accept_unknown_stations,
        tls_cert=a.tls_cert,
        tls_key=a.tls_key,
        tls_client_ca=a.tls_client_ca,
        client_cn=a.client_cn,
        bootstrap_servers=a.bootstrap_servers,
        linger_ms=a.linger_ms,
        fetch_max_wait_ms=a.fetch_max_wait_ms,
        connect_timeout_s=a.connect_timeout,
        trace_sample_ratio=a.trace_sample_ratio,
        log_level=a.log_level,
    )
