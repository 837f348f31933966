"""Where a request's CPU goes, by part (middleware, identity, SQL, metrics...): each stretch of
CPU time is charged to the innermost frame on the stack whose file belongs to a part, so the parts
add up to the whole and none counts another's time. Used by `bench/profile_get.py --parts`.

A tracer slows Python down more where it makes more calls, so the shares lean towards call-heavy
parts; `profile_get.py` turns them into milliseconds with the CPU per request measured untraced.
"""

import sys
import time
from collections import defaultdict
from collections.abc import Callable

# (part, fragments of `path:qualified name` of its functions), the first match wins; a function
# matching none (the standard library, builtins) is charged to the part of its caller.
PARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bench harness", ("/bench/wsgi_call.py", "/bench/profile_get.py", "/bench/parts.py")),
    ("yardstick view", ("/bench/bare_views.py",)),
    (
        "metrics (requests, database)",
        ("/django_prometheus/", "/prometheus_client/", "middleware.py:RequestMetricsMiddleware"),
    ),
    ("metrics (project)", ("/teleconsultation_project/metrics",)),
    (
        "access log and request id",
        (
            "/logging/",
            "/teleconsultation_project/logs.py",
            "/common/request_ids.py",
            "/pythonjsonlogger/",
            "middleware.py:RequestIdMiddleware",
        ),
    ),
    ("deadline", ("/common/http/deadline.py",)),
    ("identity", ("/teleconsultation_project/identity.py",)),
    ("URL resolution", ("/django/urls/",)),
    (
        "DRF dispatch",
        (
            "/rest_framework/views.py",
            "/rest_framework/request.py",
            "/rest_framework/negotiation.py",
            "/rest_framework/settings.py",
            "/rest_framework/authentication.py",
            "/rest_framework/utils/mediatypes.py",
            "/django/views/",
        ),
    ),
    (
        "rendering",
        (
            "/rest_framework/renderers.py",
            "/rest_framework/response.py",
            "/rest_framework/utils/encoders.py",
            "/django/template/",
        ),
    ),
    (
        "answer (serializer)",
        (
            "/rest_framework/",
            "/rooms/api/serializers.py",
            "/teleconsultation_project/fields.py",
            "/teleconsultation_project/formats.py",
        ),
    ),
    (
        "view, decorators, permissions",
        ("/rooms/api/", "/rooms/rules/permissions.py", "/rooms/services/audit.py"),
    ),
    ("cache (room details)", ("/rooms/selectors/room_details.py", "/django/core/cache/")),
    (
        "selector and rules",
        ("/rooms/selectors/", "/rooms/rules/", "/teleconsultation_project/service_config.py"),
    ),
    (
        "SQL (storage, ORM, psycopg)",
        (
            "/rooms/storage/",
            "/rooms/domain/",
            "/django/db/",
            "/psycopg",
            "/zoneinfo/",
            "/_strptime.py",
        ),
    ),
    (
        "middleware (other)",
        (
            "/teleconsultation_project/middleware.py",
            "/django/middleware/",
            "/whitenoise/",
            "/django/utils/deprecation.py",
        ),
    ),
    ("Django handler, request, response, signals", ("/django/",)),
)
OTHER = "other"


def part_of(code) -> str | None:
    name = f"{code.co_filename}:{code.co_qualname}"
    for part, fragments in PARTS:
        if any(fragment in name for fragment in fragments):
            return part
    return None


def trace(work: Callable[[], None]) -> dict[str, float]:
    """CPU seconds of `work()` by part."""
    spent: defaultdict[str, float] = defaultdict(float)
    parts_of: dict[object, str | None] = {}
    stack = [OTHER]
    clock = time.process_time
    last = clock()

    def profiler(frame, event, _arg):
        nonlocal last
        if event not in ("call", "return"):
            return
        now = clock()
        spent[stack[-1]] += now - last
        if event == "call":
            code = frame.f_code
            if code not in parts_of:
                parts_of[code] = part_of(code)
            stack.append(parts_of[code] or stack[-1])
        elif len(stack) > 1:
            stack.pop()
        last = clock()

    sys.setprofile(profiler)
    try:
        work()
    finally:
        sys.setprofile(None)
    spent[stack[-1]] += clock() - last
    return dict(spent)
