"""Fixtures of the end-to-end tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.broker import OwnBroker, own_broker


@pytest.fixture
def broker(tmp_path: Path, kafka_bootstrap: str) -> Iterator[OwnBroker]:
    """A broker of the test's own, provisioned, that the test may stop and start."""
    with own_broker(tmp_path) as started:
        yield started
