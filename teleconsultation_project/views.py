"""Django-level error views, so errors outside DRF views keep the JSON shape too. Under `/admin/`,
a person reads the answer in a browser: there 403 and 404 are Django's HTML pages."""

from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from teleconsultation_project.errors import json_error
from teleconsultation_project.middleware import ADMIN_PREFIX


def _in_admin(request) -> bool:
    return request.path_info.startswith(ADMIN_PREFIX)


@csrf_exempt
def not_found(request, exception=None):
    if _in_admin(request):
        return defaults.page_not_found(request, exception)
    return json_error(404, f"No route for {request.method} {request.path}")


def bad_request(request, exception=None):
    return json_error(400, "The request could not be understood")


def permission_denied(request, exception=None):
    if _in_admin(request):
        return defaults.permission_denied(request, exception)
    return json_error(403, "You are not allowed to do this")


def server_error(request):
    return json_error(500, "An unexpected error occurred; it has been logged")
