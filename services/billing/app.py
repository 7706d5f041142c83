"""The billing worker: its pure core (core/partition.py) in the runtime's stateful worker (I/O).

Inputs sessions.v1, stations.v1 and command-results.v1 (key station_id), state in
billing.state.v1, tariffs and their assignments from billing.tariffs.v1 (with sites and token
groups) followed into memory by every worker; CDRs to billing.cdrs.v1, costs and prices to
billing.costs.v1, price and cost messages for stations to commands.v1.
"""

from contracts.topics import Topic
from runtime.metrics import Counted
from runtime.worker import Service
from services.billing.core.cdr import Party
from services.billing.core.partition import Partition
from services.billing.core.station_costs import Display
from services.billing.metrics import metrics
from services.billing.tariff_follower import TariffFollower

NAME = "billing"
SOURCES = (Topic.SESSIONS, Topic.STATIONS, Topic.COMMAND_RESULTS)


def service(
    bootstrap_servers: str,
    *,
    party: Party,
    time_zone: str,
    currency: str,
    show: Display | None = None,
) -> Service:
    """The billing service as the runtime's worker runs it."""
    tariffs = TariffFollower(bootstrap_servers)
    count = metrics().count
    return Service(
        name=NAME,
        sources=SOURCES,
        changelog=Topic.BILLING_STATE,
        new_store=lambda p: Counted(
            Partition(
                p,
                book=tariffs.book,
                party=party,
                time_zone=time_zone,
                currency=currency,
                show=show or Display(),
            ),
            count,
        ),
        followers=[tariffs],
    )
