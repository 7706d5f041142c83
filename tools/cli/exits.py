"""The CLI's exit codes, each with one meaning a script can act on (docs/cli.md)."""

from enum import IntEnum


class Exit(IntEnum):
    OK = 0
    FAILED = 1  # the command ran and did not do what was asked (a station refused, ...)
    USAGE = 2  # argparse's: the command line itself is wrong
    INVALID = 3  # the API refused the request as invalid (400, 409)
    NOT_FOUND = 4  # no such station, session, tariff, site (404)
    UNAUTHORIZED = 5  # no key, an unknown key, or a role that may not (401, 403)
    UNAVAILABLE = 6  # the API or the broker cannot be reached, or answered 5xx
    OFFLINE = 7  # the station is not connected: a command cannot reach it


class Failure(Exception):
    """Ends the command with ``code`` and ``message`` on stderr."""

    def __init__(self, code: Exit, message: str) -> None:
        super().__init__(message)
        self.code = code
