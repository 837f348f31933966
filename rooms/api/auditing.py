"""The audit entry of each API call: `recorded` decorates a view method, and the `*_detail`
functions say what of the request goes in the entry (ids and counts, never personal data).

The entry is written through `rooms.services.audit`, with the request's client type; a GET is
recorded only when it hands out a join link (`handouts_only`), so the trail says who got a link
and when.
"""

import functools
from collections.abc import Callable

from django.conf import settings

from rooms.domain import is_teleconsultation_id
from rooms.services import audit

Detail = Callable[[object, object], dict]


def recorded(action: str, *, detail: Detail | None = None, handouts_only: bool = False):
    """Decorates an API view method: once the answer is known (errors included, as the status the
    error handler gives them), records `action` with the HTTP status as outcome. With
    `handouts_only`, only answers that hand out a join link are recorded."""

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
                        if not handouts_only:
                            _record_call(action, request, kwargs, None, detail)
                        raise
                if not handouts_only or _hands_out_link(response):
                    _record_call(action, request, kwargs, response, detail)
            return response

        return audited

    return decorate


def _request_client_type(request) -> str:
    return request.headers.get(settings.CLIENTTYPE_HEADER_KEY, "").strip()[:64]


def _hands_out_link(response) -> bool:
    return (
        response.status_code == 200
        and isinstance(response.data, dict)
        and bool(response.data.get("accessLinkURL"))
    )


def _record_call(action: str, request, kwargs: dict, response, detail: Detail | None) -> None:
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
        actor=request.user.id if request.user else "public",
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


UPDATABLE = ("participants", "start_date", "end_date", "duration_in_seconds")


def update_detail(request, response) -> dict:
    return {"fields": [name for name in UPDATABLE if name in _body(request)]}


def participant_detail(request, response) -> dict:
    user_id = _body(request).get("userExternalId")
    return {"userExternalId": user_id[:255]} if isinstance(user_id, str) else {}


def uploads_detail(request, response) -> dict:
    if response is not None and response.status_code == 200:
        return {"total": response.data["total"], "deleted": response.data["deleted"]}
    return {}
