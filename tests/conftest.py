"""Shared test set-up: every test runs against the in-process Kaleyra simulator by default.

Time is controlled explicitly with time-machine; nothing touches the network.
"""

import pytest
from rest_framework.test import APIClient

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


def pytest_collection_modifyitems(config, items):
    """Tests marked postgres_only need real row locks and concurrent connections."""
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL leg of make test)")
    for item in items:
        if "postgres_only" in item.keywords:
            item.add_marker(skip)
