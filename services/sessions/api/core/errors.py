"""Errors of the operator API, each named for the fault and mapped to one HTTP status (pure).

ApiError(status: ClassVar[int])
 ├── InvalidRequest        400: the caller's input breaks the API's rules
 │    └── InvalidToken     400: a token definition that breaks the TokenDefined contract
 ├── StationNotFound       404: no presence and no stations.v1 record for the station id
 ├── TokenNotFound         404: the token store has no such id token
 ├── SessionNotFound       404: no open or recent session with that id
 ├── OutcomeNotFound       404: this instance saw no outcome for the command id
 ├── ReportNotFound        404: the station sent no report of that kind (or none is kept)
 └── ConsoleFileNotFound   404: no such file of the operator console

ocppj.commands.arguments.InvalidCommand (a command that cannot be translated, or fails the OCPP
schema) is answered 400 as well.
"""

from contracts.http_api import ApiError, InvalidRequest, NotFound

__all__ = [
    "ApiError",
    "ConsoleFileNotFound",
    "InvalidRequest",
    "InvalidToken",
    "OutcomeNotFound",
    "ReportNotFound",
    "SessionNotFound",
    "StationNotFound",
    "TokenNotFound",
]


class InvalidToken(InvalidRequest):
    """A token definition that breaks the TokenDefined contract (docs/events.md)."""


class StationNotFound(NotFound):
    pass


class TokenNotFound(NotFound):
    pass


class SessionNotFound(NotFound):
    pass


class OutcomeNotFound(NotFound):
    pass


class ReportNotFound(NotFound):
    pass


class ConsoleFileNotFound(NotFound):
    pass
