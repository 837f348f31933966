"""The middleware that gives each incoming request its deadline for Kaleyra calls.

The deadline itself is `common.http.deadline` (re-exported here: `request_deadline`,
`time_left`); this module adds the Django part, which `common` may not import.
"""

from django.conf import settings

from common.http.deadline import request_deadline, time_left

__all__ = ["RequestDeadlineMiddleware", "request_deadline", "time_left"]


class RequestDeadlineMiddleware:
    """Gives each incoming request KALEYRA_REQUEST_DEADLINE_SECONDS for all its Kaleyra calls, so
    timeouts and retries of several calls cannot add up past what the gateway waits for us."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with request_deadline(settings.KALEYRA_REQUEST_DEADLINE_SECONDS):
            return self.get_response(request)
