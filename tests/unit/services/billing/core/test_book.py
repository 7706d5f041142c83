"""Which tariff a session gets: token group, station, site, default, each valid at the start."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts.errors import RecordRejected
from contracts.payloads.billing import Scope, TariffAssigned
from contracts.payloads.sites import SiteDefined
from contracts.payloads.tokens import Token
from services.billing.core.book import TariffBook
from tests.unit.services.billing.core.tariffs import component, element, ocpi
from tests.unit.services.billing.core.test_partition import define

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def assign(book: TariffBook, scope: Scope, target: str | None, *tariff_ids: str) -> None:
    assigned = TariffAssigned(scope=scope, target=target, tariff_ids=tariff_ids)
    book.apply(assigned.key, assigned.envelope())


def site(book: TariffBook, site_id: str, *stations: str) -> None:
    book.apply_site(site_id, SiteDefined(site_id=site_id, stations=stations).envelope())


def token(book: TariffBook, id_token: str, group: str | None) -> None:
    defined = Token(id_token=id_token, type="ISO14443", status="Accepted", group_id=group)
    book.apply_token(id_token, defined.envelope())


@pytest.fixture
def book() -> TariffBook:
    b = TariffBook()
    for tariff_id in ("DEFAULT", "SITE", "STATION", "FLEET"):
        define(b, ocpi(element(component("ENERGY", "0.30")), id=tariff_id))
    assign(b, Scope.DEFAULT, None, "DEFAULT")
    assign(b, Scope.SITE, "DEPOT", "SITE")
    assign(b, Scope.STATION, "CS-OWN", "STATION")
    assign(b, Scope.TOKEN_GROUP, "FLEET-1", "FLEET")
    site(b, "DEPOT", "CS-OWN", "CS-DEPOT")
    token(b, "CARD-FLEET", "FLEET-1")
    token(b, "CARD-PUBLIC", None)
    return b


@pytest.mark.parametrize(
    ("station", "id_token", "tariff", "site_id", "group"),
    [
        ("CS-ELSEWHERE", "CARD-PUBLIC", "DEFAULT", None, None),
        ("CS-DEPOT", "CARD-PUBLIC", "SITE", "DEPOT", None),
        ("CS-OWN", "CARD-PUBLIC", "STATION", "DEPOT", None),  # the station's own before its site
        ("CS-OWN", "CARD-FLEET", "FLEET", "DEPOT", "FLEET-1"),  # a contract before all
        ("CS-ELSEWHERE", "CARD-FLEET", "FLEET", None, "FLEET-1"),
        ("CS-DEPOT", None, "SITE", "DEPOT", None),  # no token known at the start
        ("CS-DEPOT", "CARD-UNKNOWN", "SITE", "DEPOT", None),
    ],
)
def test_the_most_specific_assignment_applies(
    book: TariffBook, station: str, id_token: str | None, tariff: str, site_id: str | None,
    group: str | None,
) -> None:  # fmt: skip
    choice = book.choose(station, T0, id_token)
    assert choice.tariff is not None
    assert (choice.tariff.id, choice.site_id, choice.token_group) == (tariff, site_id, group)
    assert choice.note is None


def test_an_assignment_without_a_valid_tariff_falls_through_and_says_why(book: TariffBook) -> None:
    later = ocpi(element(component("ENERGY", "0.40")), id="NEXT-YEAR")
    later["start_date_time"] = (T0 + timedelta(days=365)).isoformat()
    define(book, later)
    assign(book, Scope.TOKEN_GROUP, "FLEET-1", "NEXT-YEAR")
    choice = book.choose("CS-DEPOT", T0, "CARD-FLEET")
    assert choice.tariff is not None
    assert choice.tariff.id == "SITE"
    assert choice.note == "token_group tariffs ['NEXT-YEAR'] unknown or not valid at the start"


def test_a_site_redefined_or_removed_moves_its_stations(book: TariffBook) -> None:
    site(book, "DEPOT", "CS-DEPOT")  # CS-OWN left the site
    assert "CS-OWN" not in book.site_of
    assert book.choose("CS-DEPOT", T0).site_id == "DEPOT"
    book.apply_site("DEPOT", None)
    assert book.site_of == {}
    choice = book.choose("CS-DEPOT", T0)
    assert choice.tariff is not None
    assert choice.tariff.id == "DEFAULT"


def test_a_token_leaving_its_group_gets_the_station_tariff_again(book: TariffBook) -> None:
    token(book, "CARD-FLEET", None)
    choice = book.choose("CS-OWN", T0, "CARD-FLEET")
    assert choice.tariff is not None
    assert choice.tariff.id == "STATION"
    book.apply_token("CARD-PUBLIC", None)  # a tombstone
    assert "CARD-PUBLIC" not in book.groups


def test_records_we_cannot_read_are_refused(book: TariffBook) -> None:
    wrong_key = SiteDefined(site_id="A", stations=("CS-1",)).envelope()
    with pytest.raises(RecordRejected):
        book.apply_site("B", wrong_key)
    with pytest.raises(RecordRejected):
        assign(book, Scope.SITE, None, "SITE")  # only the default names no target
