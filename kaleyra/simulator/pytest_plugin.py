"""pytest fixtures for code that talks to Kaleyra: register with
`pytest_plugins = ["kaleyra.simulator.pytest_plugin"]` in the top-level conftest.

- `simulator`: KALEYRA_BACKEND=simulator on a fresh state file; yields the `Simulator` handle.
- `simulator_http`: the simulator served over HTTP on a free port, KALEYRA_BACKEND=http pointed
  at it (real client, real sockets, small timeouts); yields the handle.

Both shrink the retry waits so injected faults cost milliseconds, not seconds.
"""

import pytest

from kaleyra.provider import reset_video_provider
from kaleyra.simulator.handle import Simulator
from kaleyra.simulator.server import serve_in_thread

HTTP_API_KEY = "ak_simulator_test"
HTTP_READ_TIMEOUT = 0.3
HTTP_TIMEOUT_FAULT_DELAY = 0.6  # longer than the read timeout, so a "timeout" fault times out


def _fast_retries(settings, budget: float) -> None:
    settings.KALEYRA_RETRY_BACKOFF_SECONDS = 0.001
    # The budget also caps waits on Retry-After (fail_next(..., retry_after=0) waits not at all).
    settings.KALEYRA_RETRY_MAX_SECONDS = budget


@pytest.fixture
def simulator(settings, tmp_path):
    db_path = tmp_path / "kaleyra-simulator.sqlite3"
    settings.KALEYRA_SIMULATOR_DB = str(db_path)
    settings.KALEYRA_BACKEND = "simulator"
    _fast_retries(settings, budget=0.2)
    reset_video_provider()
    yield Simulator(db_path, link_base=settings.KALEYRA_SIMULATOR_PUBLIC_URL)
    reset_video_provider()


@pytest.fixture
def simulator_http(settings, tmp_path):
    db_path = tmp_path / "kaleyra-simulator-http.sqlite3"
    with serve_in_thread(
        db_path, api_key=HTTP_API_KEY, timeout_delay=HTTP_TIMEOUT_FAULT_DELAY
    ) as base_url:
        settings.KALEYRA_SIMULATOR_DB = str(db_path)
        settings.KALEYRA_BACKEND = "http"
        settings.BANDYER_BASE_URL = base_url
        settings.BANDYER_API_SECRET_KEY = HTTP_API_KEY
        settings.KALEYRA_CONNECT_TIMEOUT = 1.0
        settings.KALEYRA_READ_TIMEOUT = HTTP_READ_TIMEOUT
        _fast_retries(settings, budget=1.0)  # room for one read timeout and a retry
        reset_video_provider()
        yield Simulator(db_path, link_base=base_url)
    reset_video_provider()
