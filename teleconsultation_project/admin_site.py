"""The admin site: branded for support staff, with no "View site" link (the service has no web
site; "/" answers the API's JSON 404).

With ADMIN_OTP_REQUIRED it is django-otp's OTPAdminSite: the login form asks for a TOTP code as
well, and a staff user who logged in without one is treated as no staff at all. Off, it is
Django's own. The setting is read per request, so a test (or a restart) switches it.
"""

from django.conf import settings
from django.contrib import admin
from django_otp.admin import OTPAdminSite


class TeleconsultationAdminSite(OTPAdminSite):
    site_header = "Teleconsultations"
    site_title = "Teleconsultations"
    index_title = "Teleconsultations"
    site_url = None

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)

    @property  # type: ignore[override]
    def login_form(self):
        return OTPAdminSite.login_form if settings.ADMIN_OTP_REQUIRED else None

    @property  # type: ignore[override]
    def login_template(self):
        return OTPAdminSite.login_template if settings.ADMIN_OTP_REQUIRED else None

    def has_permission(self, request) -> bool:
        if settings.ADMIN_OTP_REQUIRED:
            return super().has_permission(request)
        return admin.AdminSite.has_permission(self, request)
