"""What support staff can do to teleconsultations from the admin, as actions on the list and as
buttons on the detail page. Each runs the shared support operation (`rooms.maintenance`) and
reports every item as an admin message; a provider failure is a message, never a 500.
"""

from django.contrib import admin, messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse

from rooms import audit, maintenance
from rooms.maintenance import Result
from teleconsultation_project import views

LEVELS = {
    Result.DONE: messages.SUCCESS,
    Result.PARTLY_DONE: messages.WARNING,
    Result.SKIPPED: messages.WARNING,
    Result.FAILED: messages.ERROR,
}


def _actor(request) -> str:
    return f"admin:{request.user.get_username()}"


def _each(modeladmin, request, queryset, operation) -> None:
    """Runs `operation` on each selected teleconsultation; stops when the provider is failing,
    so one click does not wait out a timeout per item."""
    teleconsultation_ids = list(queryset.values_list("pk", flat=True))
    for done, teleconsultation_id in enumerate(teleconsultation_ids, start=1):
        with audit.channel("admin"):
            outcome = operation(teleconsultation_id)
        modeladmin.message_user(request, outcome.message, LEVELS[outcome.result])
        left = len(teleconsultation_ids) - done
        if outcome.provider_failed and left:
            modeladmin.message_user(
                request,
                f"Stopped: the video provider is failing; {left} teleconsultation(s) not tried. "
                "Try again later.",
                messages.ERROR,
            )
            return


@admin.action(description="Move to trash (deletes the Kaleyra room)", permissions=["change"])
def move_to_trash(modeladmin, request, queryset):
    actor = _actor(request)
    _each(modeladmin, request, queryset, lambda pk: maintenance.move_to_trash(pk, actor=actor))


@admin.action(description="Delete uploads", permissions=["change"])
def delete_uploads(modeladmin, request, queryset):
    actor = _actor(request)
    _each(
        modeladmin,
        request,
        queryset,
        lambda pk: maintenance.delete_uploads(pk, actor=actor, force=True),
    )


@admin.action(description="Recreate the Kaleyra room", permissions=["change"])
def recreate_room(modeladmin, request, queryset):
    actor = _actor(request)
    _each(modeladmin, request, queryset, lambda pk: maintenance.recreate_room(pk, actor=actor))


ACTIONS = [move_to_trash, delete_uploads, recreate_room]
_BY_NAME = {action.__name__: action for action in ACTIONS}


def buttons(modeladmin, request) -> list[tuple[str, str]]:
    """(name, label) of the actions the user may run from the detail page."""
    if not modeladmin.has_change_permission(request):
        return []
    return [(name, action.short_description) for name, action in _BY_NAME.items()]


def run_on_one(modeladmin, request, object_id: str, action_name: str):
    """A detail-page button: the list action on that one teleconsultation, then back to it."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    action = _BY_NAME.get(action_name)
    if action is None:
        return views.not_found(request)
    if not modeladmin.has_change_permission(request):
        return views.permission_denied(request)
    queryset = modeladmin.get_queryset(request).filter(pk=object_id)
    if not queryset.exists():
        return views.not_found(request)
    action(modeladmin, request, queryset)
    return HttpResponseRedirect(reverse("admin:rooms_teleconsultation_change", args=[object_id]))
