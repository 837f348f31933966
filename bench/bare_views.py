"""The benchmark's yardsticks: what serving a GET costs at the very least, served by the same
gunicorn and Django as the API (`make bench` turns them on with BENCH_BARE_VIEWS=true).

Answered before any middleware, with no framework between the request and the work:

- `/-/bench/read/<id>`: one primary-key read of the teleconsultation, as a small JSON body;
- `/-/bench/room/<id>`: the same read, then one Kaleyra get-room;
- `/-/bench/mandatory/<id>`: what a poll of `GET /teleconsultation/{id}` must do and nothing
  else: the same query (the visit and its participants), the caller's identity headers checked
  against the participants, the room's details read by the GET's own cached read, the join
  window, and the same JSON body and headers. It answers polls, the link withheld (what waiting
  participants send every 30 s and what the bench measures); a visit whose link would be handed
  out, with its audit row, answers 409 (tests/foundation/test_bench_bare_views.py holds that the
  body and headers of a poll are the GET's).

The real `GET /teleconsultation/{id}` is measured against them (bench/run.py); off by default,
those paths answer the API's JSON 404.
"""

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

from kaleyra.provider import get_video_provider
from rooms.selectors.room_details import room_details

PREFIX = "/-/bench/"
PRIMARY_KEY_READ = (
    'SELECT "kaleyra_room_id", "start", "end" FROM "rooms_teleconsultation" WHERE "id" = %s'
)
# The GET's own statement (rooms/storage/django.py's FIND_COLUMNS, as the ORM writes it).
VISIT_READ = (
    'SELECT "rooms_teleconsultation"."id", "rooms_teleconsultation"."participants_number", '
    '"rooms_teleconsultation"."start", "rooms_teleconsultation"."end", '
    '"rooms_teleconsultation"."kaleyra_room_id", "rooms_teleconsultation"."state", '
    '"rooms_teleconsultation"."room_claim", "rooms_teleconsultation"."recording", '
    '"rooms_teleconsultation"."version", "rooms_teleconsultation"."created_at", '
    '"rooms_teleconsultation"."updated_at", "rooms_teleconsultation"."created_by", '
    '"rooms_teleconsultation"."updated_by", "rooms_participant"."external_id", '
    '"rooms_participant"."groups", "rooms_participant"."full_name", "rooms_participant"."role", '
    '"rooms_participant"."kaleyra_user_id", "rooms_participant"."language", '
    '"rooms_participant"."access_link" FROM "rooms_teleconsultation" LEFT OUTER JOIN '
    '"rooms_participant" ON ("rooms_teleconsultation"."id" = '
    '"rooms_participant"."teleconsultation_id") WHERE ("rooms_teleconsultation"."id" = %s AND '
    '"rooms_teleconsultation"."state" = %s) ORDER BY "rooms_participant"."position" ASC'
)
# What the GET's answer carries besides its body (Django's security and frame headers, DRF's).
HEADERS = {
    "Allow": "GET, PATCH, DELETE, HEAD, OPTIONS",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
UNAUTHORIZED = {"statusCode": 401, "error": "Unauthorized user", "message": "Unauthorized user"}


class BareViewsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not path.startswith(PREFIX):
            return self.get_response(request)
        what, _, teleconsultation_id = path[len(PREFIX) :].partition("/")
        if what == "mandatory":
            return mandatory(request, teleconsultation_id)
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


def mandatory(request, teleconsultation_id: str) -> HttpResponse:
    meta = request.META
    caller = meta.get(_meta_name(settings.USERID_HEADER_KEY), "").strip()
    if not caller:
        return _answer(UNAUTHORIZED, 401, meta)
    with connection.cursor() as cursor:
        cursor.execute(VISIT_READ, [teleconsultation_id, "PUBLIC"])
        rows = cursor.fetchall()
    if not rows:
        text = f"Room with id {teleconsultation_id} not found on CRUD"
        return _answer({"statusCode": 404, "error": text, "message": text}, 404, meta)
    me = next((row for row in rows if row[13] == caller), None)
    if me is None:
        return _answer(UNAUTHORIZED, 401, meta)
    visit = rows[0]
    start, end, room_id = _aware(visit[2]), _aware(visit[3]), visit[4]
    now = datetime.now(UTC)
    opens = start - timedelta(milliseconds=settings.IMMUTABLE_PERIOD_MS)
    after_end = settings.JOIN_CLOSES_AFTER_END_MS
    closes = None if after_end is None else end + timedelta(milliseconds=after_end)
    closed = closes if closes is not None and now >= closes else None
    members = [row for row in rows if row[13] is not None]
    if len(members) >= visit[1] and room_id and me[19] and now >= opens and closed is None:
        return _answer({"statusCode": 409, "error": "a hand-out: not a poll"}, 409, meta)
    body = {
        "bandyerUserId": me[17],
        "accessLinkURL": None,
        "accessLinkAvailableFrom": _format(opens),
        "accessLinkClosedAt": _format(closed),
        "participantsBandyerCall": [
            {"bandyerUserId": row[17], "fullName": row[15]} for row in members
        ],
        "details": room_details(room_id),  # the GET's own read of the cache
    }
    return _answer(body, 200, meta)


def _answer(body: dict, status: int, meta: dict) -> HttpResponse:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    response = HttpResponse(content, status=status, content_type="application/json")
    for name, value in HEADERS.items():
        response[name] = value
    response["Content-Length"] = str(len(content))
    response["x-request-id"] = meta.get("HTTP_X_REQUEST_ID") or uuid.uuid4().hex
    return response


def _meta_name(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


def _aware(moment):
    if isinstance(moment, str):  # SQLite through a bare cursor
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _format(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )
