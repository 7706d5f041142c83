"""Errors of the load balancing API, each named for the fault and mapped to one status (pure).

contracts.http_api.ApiError
 ├── InvalidRequest       400: the caller's input breaks the API's rules
 │    ├── InvalidSite     400: a site document we refuse (the message names the field)
 │    ├── InvalidCapacity 400: a capacity that is no number of amperes, or a bad validity
 │    └── InvalidSignal   400: a generation, forecast or session need we cannot read
 ├── SiteNotFound         404
 ├── StationNotInSite     404
 └── StationInAnotherSite 409: a station may belong to one site only
"""

from contracts.http_api import Conflict, InvalidRequest, NotFound


class InvalidSite(InvalidRequest):
    pass


class InvalidCapacity(InvalidRequest):
    pass


class InvalidSignal(InvalidRequest):
    pass


class SiteNotFound(NotFound):
    pass


class StationNotInSite(NotFound):
    pass


class StationInAnotherSite(Conflict):
    pass
