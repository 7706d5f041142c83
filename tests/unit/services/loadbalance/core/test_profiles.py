"""The profiles that carry limits: a session's TxProfile, a station's safe default."""

from datetime import UTC, datetime

from ocppj.commands.translate import translate
from ocppj.versions import OcppVersion
from services.loadbalance.core.profiles import default_profile, safe_limit, tx_profile
from services.loadbalance.core.topology import parse_site

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_a_session_limit_is_a_tx_profile_replaced_in_place_for_both_versions() -> None:
    arguments = tx_profile(evse_id=2, transaction_id="42", limit_a=13.37, now=NOW)
    v16 = translate("SetChargingProfile", arguments, OcppVersion.V16, command_id="c").payload
    assert v16["connectorId"] == 2
    profile = v16["csChargingProfiles"]
    assert (profile["chargingProfileId"], profile["stackLevel"], profile["transactionId"]) == (
        1002, 1, 42,
    )  # fmt: skip
    assert profile["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 13.3}
    ]
    assert profile["validTo"] == "2026-11-27T12:00:00.000Z"
    assert profile["chargingSchedule"]["startSchedule"] == "2026-11-26T11:59:00.000Z"
    v201 = translate("SetChargingProfile", arguments, OcppVersion.V201, command_id="c").payload
    assert v201["chargingProfile"]["transactionId"] == "42"


def test_the_safe_default_is_the_smallest_share_on_the_way_to_the_connection() -> None:
    site = parse_site(
        "S",
        {
            "capacity_a": 64,
            "groups": [{"group_id": "feeder", "capacity_a": 20, "parent": None}],
            "stations": [
                {"station_id": "CS-1", "evses": 2},
                {"station_id": "CS-2", "group": "feeder", "rated_a": 16},
                {"station_id": "CS-3", "group": "feeder", "rated_a": 16},
                {"station_id": "CS-4", "rated_a": 10},
            ],
        },
    )
    shares = {s.station_id: safe_limit(site, s) for s in site.stations}
    # 64 A over 5 EVSEs: 12.8; the feeder's 20 A over its 2: 10; CS-4 is rated 10
    assert shares == {"CS-1": 12.8, "CS-2": 10.0, "CS-3": 10.0, "CS-4": 10.0}
    station = site.station("CS-1")
    assert station is not None
    arguments = default_profile(site, station, now=NOW)
    payload = translate("SetChargingProfile", arguments, OcppVersion.V201, command_id="c").payload
    assert payload["evseId"] == 0
    assert payload["chargingProfile"]["chargingProfilePurpose"] == "TxDefaultProfile"
    assert payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 12.8}
    ]


def test_a_share_below_the_minimum_is_zero_not_an_overload() -> None:
    site = parse_site("S", {"capacity_a": 16, "stations": ["A", "B", "C"]})
    assert [safe_limit(site, s) for s in site.stations] == [0.0, 0.0, 0.0]  # 5.3 A < 6 A
