"""The Django admin for support staff."""

from rooms.admin import screens, visit_events  # noqa: F401  (registers the admin screens)
