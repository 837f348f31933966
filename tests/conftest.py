"""Shared test set-up: every test runs against the in-process Kaleyra simulator by default.

Time is an input: a test that builds a visit runs on a clock stopped at `NOW` (2026-12-01 08:00
UTC, tests/rooms/conftest.py), so no test depends on the day it runs; nothing touches the network.
"""

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.rooms.conftest import NOW, body, doctor, patient

pytest_plugins = ["kaleyra.simulator.pytest_plugin", "crud.simulator.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (room details are cached per room)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _isolated_provider(request, settings, tmp_path):
    """No test ever reaches a real provider; tests that want the simulator ask for it."""
    if "simulator" not in request.fixturenames and "simulator_http" not in request.fixturenames:
        settings.KALEYRA_BACKEND = "simulator"
        settings.KALEYRA_SIMULATOR_DB = str(tmp_path / "kaleyra-simulator.sqlite3")


class GatewayClient(APIClient):
    """An API client that can act as a user behind the gateway (Mia's identity headers).

    Until `as_user` says who it is, it speaks for the back office (`isbackoffice: true`), which
    may write to any visit: tests about the lifecycle need not name a plus participant each time,
    and tests/rooms/test_write_access.py checks who may write with explicit identities."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.credentials(HTTP_ISBACKOFFICE="true")

    def anonymous(self):
        """No identity headers at all."""
        self.credentials()
        return self

    def as_user(self, user_id: str | None, groups: tuple[str, ...] = (), **extra):
        headers = dict(extra)
        if user_id is not None:
            headers["miauserid"] = user_id
        if groups:
            headers["miausergroups"] = ",".join(groups)
        self.credentials(**{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        return self


@pytest.fixture
def api() -> GatewayClient:
    return GatewayClient()


@pytest.fixture
def clock(request):
    """The clock stopped at NOW; `clock.move_to(...)` moves it. Every test under tests/rooms runs
    on it, and so does any test that builds a visit (`create`, `visit`). A test marked
    `real_clock` runs on the real clock instead and computes its dates from it."""
    if request.node.get_closest_marker("real_clock"):
        pytest.fail("a test marked real_clock runs on the real clock: it cannot use `clock`")
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def create(api, db, clock):
    """POSTs a teleconsultation and returns its id, failing loudly on any other answer."""

    def make(people, **kwargs) -> str:
        response = api.post("/teleconsultation", body(people, **kwargs), format="json")
        assert response.status_code == 201, response.json()
        return response.json()["roomId"]

    return make


@pytest.fixture
def visit(create, simulator) -> str:
    """A complete visit starting two hours from NOW (Dr. Ada and Mario Bianchi), with its Kaleyra
    room, created by the back office: its link is withheld until 15 minutes before the start."""
    return create([doctor(), patient(full_name="Mario Bianchi")])


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only need real row locks and concurrent connections."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL leg of make test)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
