"""Errors of the billing API, each named for the fault and mapped to one HTTP status (pure).

contracts.http_api.ApiError
 ├── InvalidRequest        400: the caller's input breaks the API's rules
 │    ├── InvalidTariff    400: an OCPI Tariff object we refuse (the message names the field)
 │    └── InvalidAssignment 400: an assignment naming no tariff, an unknown one, a bad zone
 ├── TariffNotFound        404
 ├── AssignmentNotFound    404
 ├── CdrNotFound           404
 └── TariffInUse           409: a tariff an assignment still lists cannot be deleted
"""

from contracts.http_api import Conflict, InvalidRequest, NotFound


class InvalidTariff(InvalidRequest):
    pass


class InvalidAssignment(InvalidRequest):
    pass


class TariffNotFound(NotFound):
    pass


class AssignmentNotFound(NotFound):
    pass


class CdrNotFound(NotFound):
    pass


class TariffInUse(Conflict):
    pass
