"""The Django admin for support staff."""

from rooms.admin import screens  # noqa: F401  (registers the admin screens)
