"""The admin site: branded for support staff, with no "View site" link (the service has no web
site; "/" answers the API's JSON 404)."""

from django.contrib import admin


class TeleconsultationAdminSite(admin.AdminSite):
    site_header = "Teleconsultations"
    site_title = "Teleconsultations"
    index_title = "Teleconsultations"
    site_url = None
