"""What a simulated station reports to its shell: answers, timeouts, sessions (pure data)."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The CSMS answered one of our CALLs with a CALLRESULT or a CALLERROR."""

    action: str
    status: str  # the answer's status, "Result" if it has none, or the CALLERROR code
    latency_s: float
    error_code: str | None = None
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    action: str


@dataclass(frozen=True, slots=True)
class CallAborted:
    """The connection closed while the CALL was in flight."""

    action: str


@dataclass(frozen=True, slots=True)
class CallHandled:
    """The CSMS sent us a CALL and we answered it."""

    action: str
    status: str  # our answer's status, "Result" if it has none, or our CALLERROR code
    payload: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class SessionStarted:
    connector_id: int
    transaction_id: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    connector_id: int
    transaction_id: str
    energy_wh: float


@dataclass(frozen=True, slots=True)
class LateAnswer:
    """An answer to no CALL in flight, e.g. one that already timed out."""

    unique_id: str


@dataclass(frozen=True, slots=True)
class MalformedMessage:
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    """The CSMS set AuthorizationKey (1.6) or SecurityCtrlr.BasicAuthPassword (2.0.1)."""

    password: str = field(repr=False)


Event = (
    CallAnswered
    | CallTimedOut
    | CallAborted
    | CallHandled
    | SessionStarted
    | SessionEnded
    | LateAnswer
    | MalformedMessage
    | PasswordChanged
)
