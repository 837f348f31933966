"""The recordings of a visit on its admin page: those Kaleyra announced, and a button that
fetches a temporary download link (`rooms.services.recordings.download_link`) for staff with the
`rooms.download_recording` permission. The link is shown once, on a page that is not cached, and
never logged."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from kaleyra.errors import KaleyraError
from rooms.services import audit, recordings
from teleconsultation_project import views
from teleconsultation_project.errors import ApiError

PERMISSION = "rooms.download_recording"
SHOWN = 100
LOCAL_FORMAT = "%Y-%m-%d %H:%M:%S %Z"


def may_download(request) -> bool:
    return request.user.has_perm(PERMISSION)


def rows(object_id: str) -> list[dict]:
    """The panel's rows: one per recorded session Kaleyra announced, oldest first."""
    return [
        {
            "time": timezone.localtime(recording.announced_at).strftime(LOCAL_FORMAT),
            "room_id": recording.room_id,
            "session_id": recording.session_id,
        }
        for recording in recordings.announced(object_id, limit=SHOWN)
    ]


def link_view(modeladmin, request, object_id: str):
    """The panel's button: GET asks first (the session in the query), a POST of its Confirm
    fetches the link and shows it; a refusal or a provider failure is a message on the visit's
    page."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if not may_download(request):
        return views.permission_denied(request)
    teleconsultation = modeladmin.get_queryset(request).filter(pk=object_id).first()
    if teleconsultation is None:
        return views.not_found(request)
    detail = reverse("admin:rooms_teleconsultation_change", args=[teleconsultation.pk])
    source = request.POST if request.method == "POST" else request.GET
    session_id = source.get("session_id", "")
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Recording download link",
        "opts": modeladmin.model._meta,
        "original": teleconsultation,
        "session_id": session_id,
        "seconds": recordings.LINK_SECONDS,
        "back_url": detail,
    }
    if request.method == "POST":
        try:
            with audit.channel("admin"):
                link = recordings.download_link(
                    teleconsultation_id=teleconsultation.pk,
                    session_id=session_id,
                    actor=f"admin:{request.user.get_username()}",
                )
        except ApiError as exc:
            modeladmin.message_user(request, str(exc.detail), messages.ERROR)
            return HttpResponseRedirect(detail)
        except KaleyraError as exc:
            modeladmin.message_user(
                request,
                f"Kaleyra did not give the link now ({type(exc).__name__}); try again later.",
                messages.ERROR,
            )
            return HttpResponseRedirect(detail)
        context["link"] = link
        if link.expiration_date:
            context["expires"] = timezone.localtime(link.expiration_date).strftime(LOCAL_FORMAT)
    request.current_app = modeladmin.admin_site.name
    # No cache keeps it: admin_view marks every admin page no-store.
    return TemplateResponse(request, "admin/rooms/teleconsultation/recording_link.html", context)
