"""/metrics reports readiness as chargebus_ready, and answers even when the check breaks."""

from prometheus_client import CollectorRegistry, generate_latest

from runtime.http import operations_app


def _ready_line(registry: CollectorRegistry) -> str:
    text = generate_latest(registry).decode()
    return next(line for line in text.splitlines() if line.startswith("chargebus_ready "))


def test_the_gauge_follows_the_readiness_check() -> None:
    registry = CollectorRegistry()
    state = {"ready": False}
    operations_app(lambda: (state["ready"], "waiting"), registry)
    assert _ready_line(registry) == "chargebus_ready 0.0"
    state["ready"] = True
    assert _ready_line(registry) == "chargebus_ready 1.0"


def test_a_check_that_raises_is_not_ready_and_the_scrape_still_answers() -> None:
    registry = CollectorRegistry()

    def broken() -> tuple[bool, str]:
        raise RuntimeError("the check itself failed")

    operations_app(broken, registry)
    assert _ready_line(registry) == "chargebus_ready 0.0"
