"""The benchmark's yardsticks: what serving a GET costs at the very least, served by the same
gunicorn and Django as the API (`make bench` turns them on with BENCH_BARE_VIEWS=true).

Answered before any middleware, with no framework between the request and the work:

- `/-/bench/read/<id>`: one primary-key read of the teleconsultation, as a small JSON body;
- `/-/bench/room/<id>`: the same read, then one Kaleyra get-room.

The real `GET /teleconsultation/{id}` is measured against them (bench/run.py); off by default,
those paths answer the API's JSON 404.
"""

from django.db import connection
from django.http import JsonResponse

from kaleyra.provider import get_video_provider

PREFIX = "/-/bench/"
PRIMARY_KEY_READ = (
    'SELECT "kaleyra_room_id", "start", "end" FROM "rooms_teleconsultation" WHERE "id" = %s'
)


class BareViewsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.startswith(PREFIX):
            return self.get_response(request)
        what, _, teleconsultation_id = path[len(PREFIX) :].partition("/")
        if what not in ("read", "room"):
            return self.get_response(request)
        with connection.cursor() as cursor:
            cursor.execute(PRIMARY_KEY_READ, [teleconsultation_id])
            row = cursor.fetchone()
        if row is None:
            return JsonResponse({"error": "not found"}, status=404)
        room_id, start, end = row
        body = {"roomId": teleconsultation_id, "start": start, "end": end}
        if what == "room":
            body["recording"] = get_video_provider().get_room(room_id).recording
        return JsonResponse(body)
