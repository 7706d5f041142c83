"""When an alert is raised and when it is resolved: the thresholds, from the environment (pure)."""

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Thresholds:
    # A station offline this long (no connection at any gateway) raises StationOffline. The
    # reference's advice: max(3 x HeartbeatInterval, 5 min); a reconnect within it raises none.
    offline_after_s: int = 300
    # This many boots within ``reboot_window_s`` raise RebootLoop; a station that then does
    # not boot for ``reboot_quiet_s`` resolves it.
    reboots: int = 3
    reboot_window_s: int = 3600
    reboot_quiet_s: int = 24 * 3600
    # A critical security event raises CriticalSecurityEvent (one per type); it resolves after
    # this long without another of its type.
    security_quiet_s: int = 24 * 3600

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "Thresholds":
        """ALERTS_OFFLINE_AFTER, ALERTS_REBOOTS, ALERTS_REBOOT_WINDOW, ALERTS_REBOOT_QUIET and
        ALERTS_SECURITY_QUIET (seconds, a count for ALERTS_REBOOTS).

        Raises:
            ValueError: a value that is not a positive whole number.
        """
        defaults = cls()
        return cls(
            offline_after_s=_positive(environ, "ALERTS_OFFLINE_AFTER", defaults.offline_after_s),
            reboots=_positive(environ, "ALERTS_REBOOTS", defaults.reboots),
            reboot_window_s=_positive(environ, "ALERTS_REBOOT_WINDOW", defaults.reboot_window_s),
            reboot_quiet_s=_positive(environ, "ALERTS_REBOOT_QUIET", defaults.reboot_quiet_s),
            security_quiet_s=_positive(environ, "ALERTS_SECURITY_QUIET", defaults.security_quiet_s),
        )


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name}: {text!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{name}: must be positive, got {value}")
    return value
