"""as_dict's generated writers give what the field-by-field rule says, for every shape."""

from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from services.sessions.core.plain import as_dict
from services.sessions.core.state import Connector, StationState, Transaction

AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def reference(obj: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The rule, spelled out: init fields but ``skip``; a None left out where None is the
    default; a transaction's cached form, a to_dict(), tuples as lists, the rest as it is."""

    def plain(value: Any) -> Any:
        if hasattr(value, "plain"):
            return value.plain()
        if hasattr(value, "to_dict"):
            return value.to_dict()
        if isinstance(value, tuple):
            return [plain(item) for item in value]
        return value

    return {
        f.name: plain(getattr(obj, f.name))
        for f in fields(obj)
        if f.init
        and f.name not in skip
        and not (getattr(obj, f.name) is None and f.default is None)
    }


@dataclass(frozen=True)
class _Shapes:
    text: str
    none_by_default: int | None = None
    none_allowed: int | None = 0  # None is not its default: a None is written
    nested: tuple[tuple[int, int], ...] = ()
    connectors: tuple[Connector, ...] = ()
    mapping: dict[str, Any] = field(default_factory=dict)
    cache: int = field(default=0, init=False)


def test_every_shape_as_the_rule_says() -> None:
    connector = Connector(evse_id=1, connector_id=1, status="Charging", at=AT)
    for obj in (
        _Shapes("a"),
        _Shapes("a", none_by_default=3, none_allowed=None, nested=((1, 2), (3, 4))),
        _Shapes("b", connectors=(connector,), mapping={"k": [1]}),
    ):
        assert as_dict(obj) == reference(obj)
        assert as_dict(obj, frozenset({"text", "nested"})) == reference(
            obj, frozenset({"text", "nested"})
        )
    assert "none_allowed" in as_dict(_Shapes("a", none_allowed=None))
    assert "none_by_default" not in as_dict(_Shapes("a"))
    assert "cache" not in as_dict(_Shapes("a"))


def test_a_station_state_with_transactions() -> None:
    transaction = Transaction(transaction_id="T1", started=True, meter_start_wh=100)
    state = StationState(
        station_id="CS1",
        online=True,
        last_seen=AT,
        connectors=(Connector(evse_id=1, connector_id=1, status="Charging", at=AT),),
        transactions=(transaction,),
        ended=(transaction,),
    )
    assert as_dict(state) == reference(state)
    without_ended = frozenset({"ended"})
    assert as_dict(state, without_ended) == reference(state, without_ended)
    assert as_dict(state)["transactions"] == [transaction.plain()]
