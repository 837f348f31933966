"""Fixtures of the crud suite: a client wired to `responses`, and the simulator fixtures."""

import pytest
import responses

from crud.simulator.pytest_plugin import crud_simulator, crud_simulator_http  # noqa: F401
from tests.crud.support import RecordedSleeps, make_client


@pytest.fixture
def sleeps():
    return RecordedSleeps()


@pytest.fixture
def client(sleeps):
    return make_client(sleeps)


@pytest.fixture
def wire_mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock
