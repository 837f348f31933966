"""The decorators of the API's view methods: the audit entry of each call (`recorded`), the caller
checked before the body (`caller_first`, `visit_first`) and the `Idempotency-Key` replays of the
POSTs that create rooms (`idempotent`). They stack in that order, so a refused caller is in the
trail and leaves no idempotency record.

`recorded`: once the answer is known, one entry through `rooms.services.audit`, with ids and counts
and never personal data (the `*_detail` functions say what of the request goes in it).
`handout_recorded`: the GET of a visit is recorded only when it hands out a join link, so the trail
says who got a link and when.

`caller_first` and `visit_first`: who before what. A write's caller is checked (identity, the right
to create, for a visit's write its membership) before its body is parsed, so a stranger gets the
same 401 or 403 whatever the body holds.

`idempotent`: a client that lost the answer to a POST can send it again with the same key: within
`IDEMPOTENCY_TTL` the first response comes back (header `Idempotent-Replayed: true`) and no second
teleconsultation or room is made. The same key with another body is a 422; a repeat while the
first is still running is a 409. Keys are scoped by caller and route, and kept as room jobs, so
they live in whichever storage backend is in use; `cleanup_teleconsultations` purges old ones.
"""

import functools
import hashlib
import json
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.utils import timezone
from rest_framework.response import Response

from kaleyra.user_details import requested_user_ids
from rooms.domain import IDEMPOTENCY_TTL, JobKind, RoomJob, is_teleconsultation_id
from rooms.rules.permissions import Writer, writer_from_request
from rooms.selectors.write_access import visit_to_write
from rooms.services import audit
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError

# --- who before what ------------------------------------------------------------------------------


def caller_first(check: Callable[[Writer], None]):
    """Runs `check` on the request's writer (`permissions.require_identity`, `require_create`)
    before the view method, which reads the body."""

    def decorate(view_method):
        @wraps(view_method)
        def checked(view, request, *args, **kwargs):
            check(writer_from_request(request))
            return view_method(view, request, *args, **kwargs)

        return checked

    return decorate


def visit_first(view_method):
    """For a write with a body to the visit `roomId`: the caller and the visit are checked first
    (`selectors.write_access.visit_to_write`), and the visit read is passed on as `visit` (None
    when nothing needed reading), so the service need not read it again."""

    @wraps(view_method)
    def checked(view, request, *args, roomId: str, **kwargs):
        visit = visit_to_write(teleconsultation_id=roomId, writer=writer_from_request(request))
        return view_method(view, request, *args, roomId=roomId, visit=visit, **kwargs)

    return checked


# --- Idempotency-Key replays ----------------------------------------------------------------------

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


def _fingerprint(body: bytes) -> str:
    """The request body, canonical when it is JSON (key order and spacing do not matter)."""
    try:
        body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        pass
    return hashlib.sha256(body).hexdigest()


def _job_key(request, key: str) -> str:
    caller = request.user.id if request.user else "-"
    scope = "\n".join((caller, request.method, request.path, key))
    return hashlib.sha256(scope.encode()).hexdigest()


def idempotent(view_method):
    """Wraps an APIView method; without the header the request runs as usual."""

    @wraps(view_method)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view_method(view, request, *args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ApiError(
                f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters",
                details={HEADER: ["must be 1 to 255 printable characters"]},
            )
        storage = get_storage()
        job = RoomJob(
            kind=JobKind.IDEMPOTENCY,
            key=_job_key(request, key),
            payload={"fingerprint": _fingerprint(request.body)},
        )
        existing = storage.record_job_once(job)
        if existing is not None and existing.created_at < expired_before():
            storage.forget_jobs([existing])  # expired: this is a new request
            existing = storage.record_job_once(job)
        if existing is not None:
            return _replay(existing, job)
        try:
            response = view_method(view, request, *args, **kwargs)
        except BaseException:
            # Every refusal and failure is raised (the exception handler answers it), so the key
            # is let go: nothing was done, and the client may try again.
            storage.forget_jobs([job])
            raise
        answer = {"status": response.status_code, "body": response.data}
        storage.set_job_payload(job, {**job.payload, "response": answer})
        return response

    return wrapper


def expired_before():
    """Keys recorded before this moment no longer replay anything."""
    return timezone.now() - IDEMPOTENCY_TTL


def _replay(existing: RoomJob, job: RoomJob) -> Response:
    payload = existing.payload or {}
    if payload.get("fingerprint") != (job.payload or {}).get("fingerprint"):
        raise ApiError(
            f"This {HEADER} was used with another request body; use a new key for a new request",
            status=422,
        )
    answer = payload.get("response")
    if answer is None:
        raise ApiError(
            f"A request with this {HEADER} is still being handled; try again in a moment",
            status=409,
        )
    return Response(answer["body"], status=answer["status"], headers={REPLAYED_HEADER: "true"})


# --- the audit entry of each call ------------------------------------------------------------

Detail = Callable[[object, object], dict]


def recorded(action: str, *, detail: Detail | None = None, actor: str | None = None):
    """Decorates an API view method: once the answer is known (errors included, as the status the
    error handler gives them), records `action` with the HTTP status as outcome. `actor` names a
    caller the gateway does not identify (Kaleyra); by default it is the gateway's user, or
    "public"."""

    def decorate(method):
        @functools.wraps(method)
        def audited(view, request, *args, **kwargs):
            with audit.channel(_request_client_type(request)):
                try:
                    response = method(view, request, *args, **kwargs)
                except Exception as exc:
                    try:
                        response = view.handle_exception(exc)
                    except Exception:
                        _record_call(action, request, kwargs, None, detail, actor)
                        raise
                _record_call(action, request, kwargs, response, detail, actor)
            return response

        return audited

    return decorate


def handout_recorded(request, *, teleconsultation_id: str, actor: str) -> None:
    """The entry of a GET that handed out a join link (`audit.LINK_HANDED_OUT`, outcome 200): who
    got a link to which visit, and when. Its other answers are not recorded."""
    with audit.channel(_request_client_type(request)):
        audit.record(
            audit.LINK_HANDED_OUT,
            actor=actor,
            teleconsultation_id=teleconsultation_id,
            outcome="200",
            detail={},
        )


def _request_client_type(request) -> str:
    return request.headers.get(settings.CLIENTTYPE_HEADER_KEY, "").strip()[:64]


def _record_call(
    action: str, request, kwargs: dict, response, detail: Detail | None, actor: str | None
) -> None:
    teleconsultation_id = kwargs.get("roomId")
    if teleconsultation_id is None and response is not None and isinstance(response.data, dict):
        teleconsultation_id = response.data.get("roomId")
    if not isinstance(teleconsultation_id, str) or not is_teleconsultation_id(teleconsultation_id):
        teleconsultation_id = None  # what the caller typed is not an id: kept out of the trail
    try:
        extra = detail(request, response) if detail else {}
    except Exception:  # a body the view refused may be anything
        extra = {}
    audit.record(
        action,
        actor=actor or (request.user.id if request.user else "public"),
        teleconsultation_id=teleconsultation_id,
        outcome=str(response.status_code if response is not None else 500),
        detail=extra,
    )


def _body(request) -> dict:
    data = request.data
    return data if isinstance(data, dict) else {}


def create_detail(request, response) -> dict:
    participants = _body(request).get("participants")
    if isinstance(participants, list):  # user ids (AUTH_SERVICE)
        return {"participantsNumber": len(participants)}
    if isinstance(participants, dict) and isinstance(participants.get("data"), list):
        return {
            "participantsNumber": participants.get("number"),
            "participantsKnown": len(participants["data"]),
        }
    return {}


UPDATABLE = ("participants", "start_date", "end_date", "duration_in_seconds", "recording")


def update_detail(request, response) -> dict:
    return {"fields": [name for name in UPDATABLE if name in _body(request)]}


def participant_detail(request, response) -> dict:
    user_id = _body(request).get("userExternalId")  # anything: audit.record makes it storable
    return {"userExternalId": user_id} if isinstance(user_id, str) else {}


def uploads_detail(request, response) -> dict:
    if response is not None and response.status_code == 200:
        return {"total": response.data["total"], "deleted": response.data["deleted"]}
    return {}


def user_details_detail(request, response) -> dict:
    """The Kaleyra user ids a signed lookup asked for and how many were named; never the names,
    and nothing of a request whose signature was refused (anyone may send one)."""
    if response is None or response.status_code == 401:
        return {}
    asked = requested_user_ids(request.body)
    answered = len(response.data["users"]) if response.status_code == 200 else 0
    return {"userIds": list(asked), "answered": answered}
