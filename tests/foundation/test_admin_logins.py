"""The admin's login protection: failed logins lock a username out from an address for a while
(django-axes), and ADMIN_OTP_REQUIRED asks for a TOTP code as well (django-otp)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "a long password 1"
STARTED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def support():
    return User.objects.create_superuser("support", password=PASSWORD)


def log_in(client: Client, username: str, password: str, address="10.1.1.1", **fields):
    return client.post(
        LOGIN, {"username": username, "password": password, **fields}, REMOTE_ADDR=address
    )


def logged_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def test_repeated_failed_logins_lock_the_account_out_even_with_the_right_password(
    support, settings
):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    with time_machine.travel(STARTED, tick=False) as clock:
        for _ in range(4):
            assert log_in(client, "support", "wrong").status_code == 200  # the form again
        assert log_in(client, "support", "wrong").status_code == 429  # the fifth locks
        locked = log_in(client, "support", PASSWORD)
        assert locked.status_code == 429
        assert "too many login attempts" in locked.content.decode().lower()
        assert not logged_in(client)

        # Per username and address: the same account from elsewhere is not locked out...
        assert log_in(Client(), "support", PASSWORD, address="10.2.2.2").status_code == 302
        # ...and 15 quiet minutes end it; an attempt while locked out starts them again.
        clock.move_to(STARTED + timedelta(minutes=14))
        assert log_in(client, "support", PASSWORD).status_code == 429
        clock.move_to(STARTED + timedelta(minutes=14 + 14))
        assert log_in(client, "support", PASSWORD).status_code == 429
        clock.move_to(STARTED + timedelta(minutes=14 + 14 + 16))
        assert log_in(client, "support", PASSWORD).status_code == 302
        assert logged_in(client)


def test_a_successful_login_forgets_the_failures_before_it(support):
    client = Client()
    for _ in range(4):
        log_in(client, "support", "wrong")
    assert log_in(client, "support", PASSWORD).status_code == 302
    for _ in range(4):
        log_in(Client(), "support", "wrong")
    assert log_in(Client(), "support", PASSWORD).status_code == 302


def test_with_admin_otp_required_a_password_alone_no_longer_opens_the_admin(support, settings):
    settings.ADMIN_OTP_REQUIRED = True
    client = Client()
    page = log_in(client, "support", PASSWORD)
    assert page.status_code == 200  # the form again, asking for the token
    assert 'name="otp_token"' in page.content.decode()
    assert not logged_in(client)

    # A session that passed only the password is not staff for the admin.
    unverified = Client()
    unverified.force_login(support)
    assert unverified.get("/admin/").status_code == 302


def test_with_admin_otp_required_the_totp_code_of_an_enrolled_device_logs_in(support, settings):
    settings.ADMIN_OTP_REQUIRED = True
    device = TOTPDevice.objects.create(user=support, name="phone", confirmed=True)
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    client = Client()
    token = f"{code:0{device.digits}d}"
    answer = log_in(client, "support", PASSWORD, otp_device=device.persistent_id, otp_token=token)
    assert answer.status_code == 302, answer.context["form"].errors
    assert logged_in(client)


def test_without_it_the_login_form_asks_for_no_code(support, settings):
    assert settings.ADMIN_OTP_REQUIRED is False
    client = Client()
    assert 'name="otp_token"' not in client.get(LOGIN).content.decode()
    assert log_in(client, "support", PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_superuser_enrolls_a_device_and_gets_the_qr_code_an_authenticator_app_scans(support):
    client = Client()
    client.force_login(support)
    added = client.post(
        "/admin/otp_totp/totpdevice/add/",
        {
            "user": support.pk,
            "name": "phone",
            "confirmed": "on",
            "key": default_key(),
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "throttling_failure_count": 0,
        },
    )
    assert added.status_code == 302, added.context["adminform"].form.errors
    device = TOTPDevice.objects.get(user=support)
    qr = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/qrcode/")
    assert qr.status_code == 200 and qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content
