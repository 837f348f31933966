"""`get_video_provider` returns the configured backend, cached until settings change."""

import pytest

from kaleyra import provider as providers
from kaleyra.client import KaleyraClient
from kaleyra.provider import get_video_provider, reset_video_provider
from kaleyra.simulator.inprocess import InProcessSimulator


def test_the_simulator_backend_is_the_in_process_simulator_on_the_configured_file(
    settings, tmp_path
):
    settings.KALEYRA_BACKEND = "simulator"
    settings.KALEYRA_SIMULATOR_DB = str(tmp_path / "sim.sqlite3")
    provider = get_video_provider()
    assert isinstance(provider, InProcessSimulator)
    assert provider.engine.store.path == tmp_path / "sim.sqlite3"


def test_the_http_backend_is_the_client_with_the_configured_timeouts(settings):
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_BASE_URL = "https://api.sandbox.eu.bandyer.com/"
    settings.BANDYER_API_SECRET_KEY = "ak"
    settings.KALEYRA_CONNECT_TIMEOUT = 1.5
    settings.KALEYRA_READ_TIMEOUT = 4.0
    provider = get_video_provider()
    assert isinstance(provider, KaleyraClient)
    assert provider._timeouts(None) == (1.5, 4.0)
    assert provider._base_url == "https://api.sandbox.eu.bandyer.com"
    assert provider._session.headers["apikey"] == "ak"


def test_the_provider_is_cached_and_reset_on_demand(settings, tmp_path):
    settings.KALEYRA_SIMULATOR_DB = str(tmp_path / "sim.sqlite3")
    settings.KALEYRA_BACKEND = "simulator"
    first = get_video_provider()
    assert get_video_provider() is first
    reset_video_provider()
    assert get_video_provider() is not first


def test_changing_a_provider_setting_resets_the_cache(settings, tmp_path):
    settings.KALEYRA_SIMULATOR_DB = str(tmp_path / "sim.sqlite3")
    settings.KALEYRA_BACKEND = "simulator"
    first = get_video_provider()
    settings.KALEYRA_READ_TIMEOUT = 1.0
    assert get_video_provider() is not first


def test_an_unknown_backend_is_refused(settings):
    settings.KALEYRA_BACKEND = "carrier-pigeon"
    with pytest.raises(ValueError, match="carrier-pigeon"):
        get_video_provider()


def test_a_command_with_more_calls_at_once_than_the_pool_widens_the_pool(settings, monkeypatch):
    # Connections beyond the pool were opened and discarded on every call ("Connection pool is
    # full"): a support command at --concurrency 32 with the default pool of 25.
    monkeypatch.setattr(providers, "_calls_at_once", 0)
    settings.KALEYRA_BACKEND = "http"
    settings.BANDYER_BASE_URL = "https://kaleyra.example"
    settings.KALEYRA_POOL_SIZE = 4

    def pool_size() -> int:
        return get_video_provider()._session.get_adapter("https://kaleyra.example")._pool_maxsize

    assert pool_size() == 4
    providers.expect_calls_at_once(3)
    assert pool_size() == 4
    providers.expect_calls_at_once(16)
    assert pool_size() == 16
    reset_video_provider()
