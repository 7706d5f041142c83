"""`python -m services.certificates`: the station CA service (wiring: settings, logs, HTTP)."""

import argparse
import logging
import os
import sys
from datetime import timedelta
from pathlib import Path

from runtime import eventloop, logs
from runtime.http import start_operations_server
from runtime.kafka import KafkaUnavailable, TopicMissing
from runtime.process import stop_on_signals
from runtime.settings import BOOTSTRAP_ENV, bootstrap_servers
from services.certificates.app import Certificates, Settings
from services.certificates.authority import Authority, write_dev_ca
from services.certificates.core.commands import Renewal

log = logging.getLogger("certificates")

DESCRIPTION = f"""\
Sign station certificates (OCPP security profile 3, A02/A03; 1.6 security whitepaper): the
sessions service checks each SignCertificate's CSR and writes CertificateSigningRequested on
stations.v1; this service signs the accepted ones with the CA you give it and sends
CertificateSigned through commands.v1 (the sessions API delivers it). It also asks every online
station whose client certificate expires within --renew-before-days for a new CSR. Refused
CSRs are logged with their reasons. docs/certificates.md.

`python -m services.certificates dev-ca DIR`: write a development CA (ca.pem, ca.key) to DIR.

environment:
  {BOOTSTRAP_ENV}      broker address (default 127.0.0.1:9092)
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m services.certificates",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--ca-cert", type=Path, required=True, help="the CA's certificate (PEM)")
    p.add_argument("--ca-key", type=Path, required=True, help="the CA's private key (PEM)")
    p.add_argument("--valid-days", type=int, default=365, help="station certificates' lifetime")
    p.add_argument(
        "--renew-before-days",
        type=float,
        default=30.0,
        help="ask a station for a new CSR when its certificate expires within this many days",
    )
    p.add_argument(
        "--check-interval", type=float, default=60.0, help="seconds between renewal rounds"
    )
    p.add_argument("--group", default="chargebus-certificates", help="consumer group")
    p.add_argument("--offset-reset", choices=("latest", "earliest"), default="latest")
    p.add_argument("--bootstrap-servers", default=bootstrap_servers(os.environ))
    p.add_argument("--http-host", default="0.0.0.0", help="/healthz, /readyz, /metrics")
    p.add_argument("--http-port", type=int, default=9600, help="/healthz, /readyz, /metrics")
    p.add_argument("--connect-timeout", type=float, default=15.0)
    p.add_argument("--log-level", default="INFO")
    return p


async def serve(settings: Settings, authority: Authority, host: str, port: int) -> int:
    service = Certificates(settings, authority)
    ops = await start_operations_server(service.readiness, host, port)
    stop = stop_on_signals()
    try:
        await service.start()
        await stop.wait()
        return 0
    except (KafkaUnavailable, TopicMissing) as exc:
        log.error("%s", exc)
        return 2
    finally:
        await service.stop()
        await ops.cleanup()


def run(argv: list[str]) -> int:
    if argv[:1] == ["dev-ca"]:
        if len(argv) != 2:
            sys.stderr.write("usage: python -m services.certificates dev-ca DIR\n")
            return 2
        certfile, _ = write_dev_ca(Path(argv[1]), organization="chargebus dev")
        sys.stdout.write(f"{certfile}\n")
        return 0
    args = parser().parse_args(argv)
    logs.configure(args.log_level)
    try:
        authority = Authority.load(args.ca_cert, args.ca_key, timedelta(days=args.valid_days))
    except (OSError, ValueError) as exc:
        log.error("cannot use the CA: %s", exc)
        return 2
    settings = Settings(
        bootstrap_servers=args.bootstrap_servers,
        group=args.group,
        offset_reset=args.offset_reset,
        ca_cert=args.ca_cert,
        ca_key=args.ca_key,
        renewal=Renewal(renew_before=timedelta(days=args.renew_before_days)),
        check_interval_s=args.check_interval,
        connect_timeout_s=args.connect_timeout,
    )
    return eventloop.run(serve(settings, authority, args.http_host, args.http_port))


def main() -> int:
    """The console script (pyproject.toml [project.scripts]): the command line of `sys.argv`."""
    return run(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
