"""The admin's own middleware (sessions, the logged-in user, messages) runs for /admin/ only, and
every API request goes URL map -> view: no middleware answers an API route."""

from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import Client

from rooms.api.teleconsultations import TeleconsultationApi

pytestmark = pytest.mark.django_db

ADMIN_ONLY = "teleconsultation_project.middleware.AdminOnlyMiddleware"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The production hasher would cost a second a login here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def spy_on(cls, name: str):
    """Counts the calls of `cls.name`, which still runs."""
    original = getattr(cls, name)
    calls = mock.Mock()

    def counted(self, *args, **kwargs):
        calls(*args, **kwargs)
        return original(self, *args, **kwargs)

    return mock.patch.object(cls, name, counted), calls


@pytest.fixture
def sessions():
    patch, calls = spy_on(SessionMiddleware, "process_request")
    with patch:
        yield calls


def test_an_api_request_skips_the_admin_middleware(sessions):
    response = Client().get("/teleconsultation/" + "a" * 24, HTTP_MIAUSERID="someone")
    assert response.status_code in (401, 404)
    assert sessions.call_count == 0
    assert "Cookie" not in response.get("Vary", "")


def test_an_admin_request_runs_it(sessions):
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert sessions.call_count == 1
    assert "csrftoken" in response.cookies


def test_the_admin_logs_in_and_keeps_its_session():
    User.objects.create_superuser("support", password="a long password 1")
    client = Client()
    login = client.post(
        "/admin/login/?next=/admin/", {"username": "support", "password": "a long password 1"}
    )
    assert login.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_an_admin_post_without_its_csrf_token_is_refused():
    User.objects.create_superuser("support", password="a long password 1")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/admin/login/", {"username": "support", "password": "a long password 1"}
    )
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_the_admin_middleware_is_where_the_admin_needs_it():
    assert ADMIN_ONLY in settings.MIDDLEWARE
    admin_only = ("SessionMiddleware", "AuthenticationMiddleware", "MessageMiddleware")
    for needed in (*admin_only, "OTPMiddleware", "AxesMiddleware"):
        assert any(path.endswith(needed) for path in settings.ADMIN_MIDDLEWARE), needed
        assert not any(path.endswith(needed) for path in settings.MIDDLEWARE), needed


def test_a_plain_poll_is_answered_by_the_view():
    patch, dispatch = spy_on(TeleconsultationApi, "dispatch")
    with patch:
        response = Client().get("/teleconsultation/" + "a" * 24, HTTP_MIAUSERID="someone")
    assert response.status_code in (401, 404)
    assert dispatch.call_count == 1
