"""What support staff can do to teleconsultations from the admin, as actions on the list and as
buttons on the detail page. Each first shows a confirmation page (the teleconsultations and what
will happen); only a POST of its Confirm runs the shared support operation
(`rooms.services.support`). Every item's outcome is an admin message and an entry in that
teleconsultation's history; a provider failure is a message, never a 500. What reconciliation
does too (a new room) counts in `teleconsultation_reconcile_outcomes_total`, in the web process
that ran it, where Prometheus scrapes it.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from rooms.services import audit, support
from rooms.services.support import Outcome, Result
from teleconsultation_project import views
from teleconsultation_project.metrics import RECONCILE_OUTCOMES

LEVELS = {
    Result.DONE: messages.SUCCESS,
    Result.PARTLY_DONE: messages.WARNING,
    Result.SKIPPED: messages.WARNING,
    Result.FAILED: messages.ERROR,
}

# What the confirmation page posts (the field Django's own delete confirmation uses).
CONFIRMED = "post"


@dataclass(frozen=True)
class SupportAction:
    name: str
    label: str
    consequence: str  # what will happen, told on the confirmation page
    run: Callable[[str, str], Outcome]  # (teleconsultation id, actor) -> outcome
    reconciles: bool = False  # what reconcile_rooms does too: counted as reconciliation


SUPPORT_ACTIONS = {
    action.name: action
    for action in [
        SupportAction(
            "move_to_trash",
            "Move to trash (deletes the Kaleyra room)",
            "Each teleconsultation is moved to TRASH and its Kaleyra room is deleted: its "
            "participants can no longer join the call.",
            lambda pk, actor: support.one(support.move_to_trash, pk, actor=actor),
        ),
        SupportAction(
            "delete_uploads",
            "Delete uploads",
            "Every file shared in each teleconsultation's call (File Share and Snapshot) is "
            "deleted from Kaleyra, for good, whatever TELECONSULTATION_DELETE_UPLOADS says.",
            lambda pk, actor: support.delete_uploads(pk, actor=actor, force=True),
        ),
        SupportAction(
            "recreate_room",
            "Recreate the Kaleyra room",
            "Each teleconsultation gets a new Kaleyra room and its old one is deleted: the "
            "participants get new join links and must reload the teleconsultation page.",
            lambda pk, actor: support.recreate_room(pk, actor=actor),
            reconciles=True,
        ),
        SupportAction(
            "collect_attendance",
            "Collect attendance",
            "Who joined each teleconsultation's calls, when and for how long, is fetched from "
            "Kaleyra's sessions of its room and stored in place of what was collected before; "
            "one with fewer than two participants joined is marked a no-show.",
            lambda pk, actor: support.collect_attendance(pk, actor=actor),
        ),
    ]
}


def _run(modeladmin, request, teleconsultations, chosen: SupportAction) -> None:
    """Runs `chosen` on each teleconsultation, telling and logging each outcome; stops when the
    provider is failing, so one click does not wait out a timeout per item."""
    actor = f"admin:{request.user.get_username()}"
    for done, teleconsultation in enumerate(teleconsultations, start=1):
        with audit.channel("admin"):
            outcome = chosen.run(teleconsultation.pk, actor)
        if chosen.reconciles:
            RECONCILE_OUTCOMES.labels(outcome=outcome.result.label).inc()
        modeladmin.message_user(request, outcome.message, LEVELS[outcome.result])
        modeladmin.log_change(
            request, teleconsultation, f"{chosen.label}: {outcome.result.value}. {outcome.message}"
        )
        left = len(teleconsultations) - done
        if outcome.provider_failed and left:
            modeladmin.message_user(
                request,
                f"Stopped: the video provider is failing; {left} teleconsultation(s) not tried. "
                "Try again later.",
                messages.ERROR,
            )
            return


def _confirmation(modeladmin, request, teleconsultations, chosen, *, cancel_url, bulk):
    """The page that asks before `chosen` runs: a bulk one posts the selection back to the
    list, as Django's delete confirmation does; a single one posts to the detail page's button."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"{chosen.label}?",
        "opts": modeladmin.model._meta,
        "support_action": chosen,
        "teleconsultations": [
            {
                "id": teleconsultation.pk,
                "start": modeladmin.start_local(teleconsultation),
                "names": modeladmin.participant_names(teleconsultation),
            }
            for teleconsultation in teleconsultations
        ],
        "bulk": bulk,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "confirmed_field": CONFIRMED,
        "cancel_url": cancel_url,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(
        request, "admin/rooms/teleconsultation/support_action_confirmation.html", context
    )


def _confirmed(request) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRMED) == "yes"


def _list_action(chosen: SupportAction):
    """The list's action for `chosen`: the confirmation page, or the run once confirmed."""

    def action(modeladmin, request, queryset):
        if _confirmed(request):
            _run(modeladmin, request, list(queryset), chosen)
            return None  # back to the list, which shows the messages
        return _confirmation(
            modeladmin, request, queryset, chosen, cancel_url=request.get_full_path(), bulk=True
        )

    action.__name__ = chosen.name
    return admin.action(description=chosen.label, permissions=["change"])(action)


ACTIONS = [_list_action(chosen) for chosen in SUPPORT_ACTIONS.values()]


def buttons(modeladmin, request) -> list[tuple[str, str]]:
    """(name, label) of the actions the user may run from the detail page."""
    if not modeladmin.has_change_permission(request):
        return []
    return [(chosen.name, chosen.label) for chosen in SUPPORT_ACTIONS.values()]


def run_on_one(modeladmin, request, object_id: str, action_name: str):
    """A detail-page button: the confirmation page for that one teleconsultation, or, once
    confirmed, the action on it, then back to its page."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    chosen = SUPPORT_ACTIONS.get(action_name)
    if chosen is None:
        return views.not_found(request)
    if not modeladmin.has_change_permission(request):
        return views.permission_denied(request)
    teleconsultation = modeladmin.get_queryset(request).filter(pk=object_id).first()
    if teleconsultation is None:
        return views.not_found(request)
    detail = reverse("admin:rooms_teleconsultation_change", args=[teleconsultation.pk])
    if _confirmed(request):
        _run(modeladmin, request, [teleconsultation], chosen)
        return HttpResponseRedirect(detail)
    return _confirmation(
        modeladmin, request, [teleconsultation], chosen, cancel_url=detail, bulk=False
    )
