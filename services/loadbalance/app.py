"""The load balancing worker: the router and the allocating core in the runtime's worker (I/O).

Two services in one process: the router (core/router.py) reads sessions.v1, stations.v1 and
command-results.v1 (key station_id) and writes the events of stations in a site to
loadbalance.inputs.v1 (key site_id); the load balancer (core/partition.py) reads that with
loadbalance.sites.v1 and grid.capacity.v1, keeps each site in loadbalance.state.v1, and writes
LimitsAllocated to loadbalance.limits.v1 and SetChargingProfile commands to commands.v1.
"""

from contracts.topics import Topic
from runtime.metrics import Counted
from runtime.worker import Service
from services.loadbalance.core.partition import Partition
from services.loadbalance.core.router import Router
from services.loadbalance.metrics import metrics
from services.loadbalance.station_sites import StationSites

NAME = "loadbalance"
ROUTER = "loadbalance_router"
SOURCES = (Topic.SITE_INPUTS, Topic.SITES, Topic.GRID_CAPACITY)
ROUTED = (Topic.SESSIONS, Topic.STATIONS, Topic.COMMAND_RESULTS)


def services(bootstrap_servers: str) -> tuple[Service, Service]:
    """The load balancer and its router, as the runtime's workers run them."""
    sites = StationSites(bootstrap_servers)
    count = metrics().count
    balancer = Service(
        name=NAME,
        sources=SOURCES,
        changelog=Topic.LOADBALANCE_STATE,
        new_store=lambda p: Counted(Partition(p, documents=sites.document), count),
        followers=[sites],
    )
    router = Service(  # started after the balancer, which starts the follower they share
        name=ROUTER,
        sources=ROUTED,
        changelog=None,
        new_store=lambda p: Router(sites.site_of, sites.group_of),
    )
    return balancer, router
