"""`Idempotency-Key` on the POSTs that create rooms: a repeat replays the first answer.

A client that lost the answer to a POST can send it again with the same key: within
`IDEMPOTENCY_TTL` the first response comes back (header `Idempotent-Replayed: true`) and no second
teleconsultation or room is made. The same key with another body is a 422; a repeat while the
first is still running is a 409. Keys are scoped by caller and route, and kept as room jobs, so
they live in whichever storage backend is in use; `cleanup_teleconsultations` purges old ones.
"""

import hashlib
import json
from functools import wraps

from django.utils import timezone
from rest_framework.response import Response

from rooms.domain import IDEMPOTENCY_TTL, JobKind, RoomJob
from rooms.storage import get_storage
from teleconsultation_project.errors import ApiError

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
