"""The boot policy and its environment variables."""

import pytest

from services.sessions.core.policy import BootStatus, Policy


def test_defaults_accept_every_station() -> None:
    policy = Policy.from_environ({})
    assert policy == Policy()
    assert policy.boot_status("anyone") is BootStatus.ACCEPTED
    assert (policy.interval_s(BootStatus.ACCEPTED), policy.interval_s(BootStatus.PENDING)) == (
        300,
        60,
    )


def test_from_environ() -> None:
    policy = Policy.from_environ(
        {
            "SESSIONS_UNKNOWN_STATIONS": "Rejected",
            "SESSIONS_STATION_OVERRIDES": " CS1=Accepted, CS2 = Pending ,,",
            "SESSIONS_HEARTBEAT_INTERVAL": "900",
            "SESSIONS_RETRY_INTERVAL": " 15 ",
        }
    )
    assert policy.unknown_station is BootStatus.REJECTED
    assert dict(policy.overrides) == {"CS1": BootStatus.ACCEPTED, "CS2": BootStatus.PENDING}
    assert [policy.boot_status(s) for s in ("CS1", "CS2", "CS3")] == [
        "Accepted",
        "Pending",
        "Rejected",
    ]
    assert (policy.heartbeat_interval_s, policy.retry_interval_s) == (900, 15)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SESSIONS_UNKNOWN_STATIONS": "accepted"}, "SESSIONS_UNKNOWN_STATIONS: 'accepted' is not"),
        ({"SESSIONS_STATION_OVERRIDES": "CS1"}, "'CS1' is not station_id=status"),
        ({"SESSIONS_STATION_OVERRIDES": "=Accepted"}, "is not station_id=status"),
        ({"SESSIONS_STATION_OVERRIDES": "CS1=Maybe"}, "SESSIONS_STATION_OVERRIDES: 'Maybe' is not"),
        ({"SESSIONS_HEARTBEAT_INTERVAL": "5m"}, "not a whole number of seconds"),
        ({"SESSIONS_RETRY_INTERVAL": "0"}, "must be positive"),
    ],
)
def test_from_environ_rejects_bad_values(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Policy.from_environ(environ)
