"""Fixtures of the kaleyra suite: a client wired to `responses` with recorded (not real) sleeps."""

import pytest
import responses

from kaleyra.simulator.pytest_plugin import simulator, simulator_http  # noqa: F401
from tests.kaleyra.support import FakeTime, make_client


@pytest.fixture
def fake_time():
    return FakeTime()


@pytest.fixture
def client_factory(fake_time):
    """Builds a client with other retry or timeout settings: `client_factory(max_retries=0)`."""
    return lambda **options: make_client(fake_time, **options)


@pytest.fixture
def client(fake_time):
    return make_client(fake_time)


@pytest.fixture
def wire_mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
