"""Django-level error views, so errors outside DRF views keep the JSON shape too."""

from django.views.decorators.csrf import csrf_exempt

from teleconsultation_project.errors import json_error


@csrf_exempt
def not_found(request, exception=None):
    return json_error(404, f"No route for {request.method} {request.path}")


def bad_request(request, exception=None):
    return json_error(400, "The request could not be understood")


def permission_denied(request, exception=None):
    return json_error(403, "You are not allowed to do this")


def server_error(request):
    return json_error(500, "An unexpected error occurred; it has been logged")
