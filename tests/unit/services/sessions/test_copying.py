"""The core's fast replace gives dataclasses.replace's result, and its errors."""

import dataclasses
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime

import pytest

from services.sessions.core.copying import _twin, fast_replace, replace
from services.sessions.core.state import Connector, StationState, Transaction


def test_the_core_runs_the_fast_one() -> None:
    assert replace is fast_replace


def test_a_transaction_copy_equals_dataclasses_and_starts_its_cache_afresh() -> None:
    t = Transaction(transaction_id="T1", started=True, meter_start_wh=100)
    object.__setattr__(t, "_plain_cache", {"cached": True})  # the init=False cache
    fast = fast_replace(t, update_pending=True, meter_start_wh=200)
    slow = dataclasses.replace(t, update_pending=True, meter_start_wh=200)
    assert fast == slow
    assert fast._plain_cache is None
    assert slow._plain_cache is None
    assert (fast.update_pending, fast.meter_start_wh, fast.started) == (True, 200, True)
    assert t.update_pending is False  # the original is untouched
    assert fast_replace(t) == t


def test_station_states_and_connectors_too() -> None:
    state = StationState(station_id="CS1")
    assert fast_replace(state, online=True) == dataclasses.replace(state, online=True)
    connector = Connector(evse_id=1, connector_id=1, status="Available", at=datetime.now(UTC))
    assert fast_replace(connector, status="Faulted") == dataclasses.replace(
        connector, status="Faulted"
    )


@dataclass(frozen=True)
class _Checked:
    value: int

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class _WithInitVar:
    value: int
    scale: InitVar[int] = 1


@dataclass(frozen=True, slots=True)
class _Factory:
    value: int
    seen: list[int] = field(default_factory=list, init=False)


def test_what_it_cannot_copy_goes_to_dataclasses_replace_with_its_errors() -> None:
    with pytest.raises(ValueError, match="negative"):
        fast_replace(_Checked(1), value=-1)  # __post_init__ still runs
    assert fast_replace(_WithInitVar(1), value=2, scale=3) == _WithInitVar(2)
    with pytest.raises(TypeError):
        fast_replace(Transaction(transaction_id="T1"), no_such_field=1)
    with pytest.raises(ValueError, match="init=False"):
        fast_replace(_Factory(1), seen=[1])


def test_init_false_fields_with_a_factory_get_a_fresh_value() -> None:
    original = _Factory(1)
    original.seen.append(5)
    copy = fast_replace(original, value=2)
    assert copy == dataclasses.replace(original, value=2)
    assert copy.seen == []
    assert copy.seen is not original.seen


@dataclass(frozen=True)
class _Plain:  # no slots: copied field by field
    value: int
    label: str = "a"


@dataclass(frozen=True, slots=True)
class _Base:
    value: int


@dataclass(frozen=True, slots=True)
class _Derived(_Base):  # slots of its own and a base's: copied field by field
    label: str = "a"


@pytest.mark.parametrize(
    ("original", "changes"),
    [
        (StationState(station_id="CS1", vendor="V"), {"online": True, "model": "M"}),
        (Transaction(transaction_id="T1", started=True), {}),
        (_Plain(1), {"label": "b"}),
        (_Derived(1), {"value": 2, "label": "b"}),
    ],
)
def test_a_copy_is_an_instance_of_the_frozen_class_whichever_way_it_is_built(
    original: object, changes: dict[str, object]
) -> None:
    copy = fast_replace(original, **changes)
    assert type(copy) is type(original)
    assert copy == dataclasses.replace(original, **changes)  # type: ignore[type-var]
    first = dataclasses.fields(copy)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(copy, first, 3)
    assert copy is not original


def test_slotted_states_are_built_in_a_mutable_twin_and_others_are_not() -> None:
    assert _twin(StationState) is not None
    assert _twin(Transaction) is not None
    assert _twin(_Plain) is None  # no slots
    assert _twin(_Derived) is None  # a base with slots of its own
