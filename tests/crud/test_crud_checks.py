"""The system check names each CRUD setting that stops the client from working."""

import pytest

from crud.checks import check_crud_settings


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.CRUD_SERVICE_URL = "http://crud-service"
    settings.CRUD_SIMULATOR_DB = ""
    return settings


def ids() -> list[str]:
    return [message.id for message in check_crud_settings()]


def test_the_defaults_pass(production):
    assert ids() == []


@pytest.mark.parametrize(
    "url", ["", "crud-service", "ftp://crud-service", "http://", "http://crud-service/?a=1"]
)
def test_an_unusable_url_is_an_error_naming_it(production, url):
    production.CRUD_SERVICE_URL = url
    (message,) = check_crud_settings()
    assert message.id == "crud.E001"
    assert "CRUD_SERVICE_URL" in message.msg
    assert message.is_serious()


@pytest.mark.parametrize(
    "name", ["CRUD_SERVICE_CONNECT_TIMEOUT_SECONDS", "CRUD_SERVICE_TIMEOUT_SECONDS"]
)
def test_a_timeout_that_is_not_positive_is_an_error_naming_it(production, name):
    setattr(production, name, 0)
    (message,) = check_crud_settings()
    assert (message.id, name in message.msg) == ("crud.E002", True)


@pytest.mark.parametrize("header", ["", "user id", "user:id"])
def test_a_header_that_is_not_a_header_name_is_an_error(production, header):
    production.CRUD_USER_ID_HEADER = header
    (message,) = check_crud_settings()
    assert (message.id, "CRUD_USER_ID_HEADER" in message.msg) == ("crud.E003", True)


def test_the_simulator_in_production_is_a_warning(production, tmp_path):
    production.CRUD_SIMULATOR_DB = str(tmp_path / "crud.sqlite3")
    (message,) = check_crud_settings()
    assert message.id == "crud.W001"
    assert not message.is_serious()


def test_the_simulator_in_development_is_fine(production, tmp_path):
    production.DEBUG = True
    production.CRUD_SIMULATOR_DB = str(tmp_path / "crud.sqlite3")
    assert ids() == []
