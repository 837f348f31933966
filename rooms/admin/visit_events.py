"""The outbox of visit events (`rooms.services.visit_events`), read-only: pending, sent and dead
events per receiver, with a "retry" action that sends dead ones again (for a superuser, or a user
given `rooms.change_visitevent`, as the Support group is)."""

import json

from django.contrib import admin, messages
from django.utils.html import format_html

from rooms.admin.screens import local_time_seconds
from rooms.models import VisitEvent
from rooms.services import visit_events


@admin.register(VisitEvent)
class VisitEventAdmin(admin.ModelAdmin):
    list_display = [
        "created_local",
        "type",
        "teleconsultation_id",
        "status",
        "attempts",
        "next_attempt_local",
        "url",
        "last_error",
    ]
    list_filter = ["status", "type"]
    search_fields = ["=teleconsultation_id", "=event_id"]
    ordering = ["-created_at", "-id"]
    actions = ["retry"]
    fields = readonly_fields = (
        "event_id",
        "type",
        "teleconsultation_id",
        "url",
        "status",
        "attempts",
        "created_local",
        "next_attempt_local",
        "sent_local",
        "last_error",
        "envelope",
    )

    @admin.display(description="created at", ordering="created_at")
    def created_local(self, event):
        return local_time_seconds(event.created_at)

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt_local(self, event):
        return local_time_seconds(event.next_attempt_at) if event.status == "pending" else "-"

    @admin.display(description="sent at", ordering="sent_at")
    def sent_local(self, event):
        return local_time_seconds(event.sent_at)

    @admin.display(description="event")
    def envelope(self, event):
        return format_html("<pre>{}</pre>", json.dumps(event.body, indent=2, sort_keys=True))

    @admin.action(description="Send the selected dead events again", permissions=["retry"])
    def retry(self, request, queryset):
        dead = list(queryset.filter(status=VisitEvent.Status.DEAD).values_list("id", flat=True))
        revived = visit_events.retry_dead(dead)
        skipped = queryset.count() - revived
        self.message_user(
            request,
            f"{revived} dead event(s) will be sent again by the next send_visit_events run"
            + (f"; {skipped} not dead, left as they were" if skipped else ""),
            messages.SUCCESS if revived else messages.WARNING,
        )

    def has_retry_permission(self, request):
        return request.user.has_perm("rooms.change_visitevent")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what was sent is kept as sent; "retry" is the one change

    def has_delete_permission(self, request, obj=None):
        return False
