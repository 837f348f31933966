"""Errors of the teleconsultation domain, each with its status and, where the contract gives
one, its exact text. Services raise them; the API, admin and commands all read them the same way.
"""

from datetime import datetime

from teleconsultation_project.errors import ApiError, validation_message
from teleconsultation_project.formats import format_datetime


class TeleconsultationNotFound(ApiError):
    def __init__(self, teleconsultation_id: str) -> None:
        text = f"Room with id {teleconsultation_id} not found on CRUD"
        super().__init__(text, status=404, error=text)


class UnauthorizedUser(ApiError):
    def __init__(self, message: str = "Unauthorized user") -> None:
        super().__init__(message, status=401, error="Unauthorized user")


class NoPlusUser(ApiError):
    """A complete teleconsultation needs a plus participant; the text names the operation."""

    def __init__(self, operation: str) -> None:
        text = f"Failed {operation}: no plus user in room"
        super().__init__(text, status=400, error=text)


class Locked(ApiError):
    def __init__(self, locked_since: datetime) -> None:
        super().__init__(
            "The teleconsultation is complete and starts soon or has started: it cannot be "
            f"changed since {format_datetime(locked_since)}",
            status=409,
        )


class Conflict(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)


class InvalidRequest(ApiError):
    """A rule of the contract broken by the request; `field` becomes the `details` key."""

    def __init__(self, field: str, message: str) -> None:
        details = {field: [message]}
        super().__init__(validation_message(details), status=400, details=details)


class CalendarFeedNotFound(ApiError):
    """No feed has this secret (never made, replaced or revoked): nothing told about which."""

    def __init__(self) -> None:
        super().__init__("No calendar feed at this address", status=404)
