"""The Django admin for support staff: teleconsultations, the user map, the room jobs.

Records are read-only here: every change goes through an action (`rooms.admin.actions`), which
runs the same services as the API. Access links are secrets: never in the list, and on the detail
page for superusers only. The detail page also shows the join window, the visit's audit trail,
Kaleyra's events for it (`rooms.admin.kaleyra_events`) and the recordings Kaleyra announced, read
through storage (`rooms.admin.recordings` fetches a recording's download link); the whole trail is
`export_audit`'s. Kaleyra's events have a read-only list of their own.
"""

import json
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from rooms.admin import actions, kaleyra_events, paging, recordings, search
from rooms.models import (
    AuditEntry,
    Participant,
    RoomJob,
    Teleconsultation,
    UserMapping,
    WebhookEvent,
)
from rooms.rules import join_window
from rooms.storage import get_storage

LOCAL_FORMAT = "%Y-%m-%d %H:%M %Z"
AUDIT_SHOWN = 100  # a visit's first entries; `export_audit --room` gives them all
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def local_time(moment) -> str:
    """In the zone of settings.TIME_ZONE, naming it: "2026-12-01 09:30 CET"."""
    return timezone.localtime(moment).strftime(LOCAL_FORMAT) if moment else "-"


class StoredHere:
    """With `STORAGE_BACKEND=crud` these tables are not where the records live: the list says so
    and where they are, instead of showing an empty list as if there were no visits."""

    def changelist_view(self, request, extra_context=None):
        if settings.STORAGE_BACKEND != "crud":
            return super().changelist_view(request, extra_context)
        collections = {
            "teleconsultation": settings.TELECONSULTATIONS_CRUD_NAME,
            "usermapping": settings.USER_ID_MAP_CRUD_NAME,
            "roomjob": settings.ROOM_JOBS_CRUD_NAME,
            "auditentry": settings.AUDIT_CRUD_NAME,
            "webhookevent": settings.WEBHOOK_EVENTS_CRUD_NAME,
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": self.model._meta.verbose_name_plural.capitalize(),
            "crud_url": settings.CRUD_SERVICE_URL,
            "collection": collections.get(self.model._meta.model_name, ""),
        }
        return TemplateResponse(request, "admin/rooms/stored_in_crud.html", context)


class LocalTimestamps:
    """created/updated at in `local_time`, the admin's one date format, for every record."""

    @admin.display(description="created at", ordering="created_at")
    def created_local(self, record):
        return local_time(record.created_at)

    @admin.display(description="updated at", ordering="updated_at")
    def updated_local(self, record):
        return local_time(record.updated_at)


def local_time_seconds(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z") if moment else "-"


class RoomPresentFilter(admin.SimpleListFilter):
    title = "Kaleyra room"
    parameter_name = "room"

    def lookups(self, request, model_admin):
        return [("yes", "Room present"), ("no", "No room")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(kaleyra_room_id__isnull=False)
        if self.value() == "no":
            return queryset.filter(kaleyra_room_id__isnull=True)
        return queryset


class UpcomingFilter(admin.SimpleListFilter):
    title = "upcoming"
    parameter_name = "upcoming"
    WINDOWS = {
        "24h": ("Next 24 hours", timedelta(hours=24)),
        "7d": ("Next 7 days", timedelta(days=7)),
    }

    def lookups(self, request, model_admin):
        return [(key, label) for key, (label, _window) in self.WINDOWS.items()]

    def queryset(self, request, queryset):
        if self.value() not in self.WINDOWS:
            return queryset
        now = timezone.now()
        return queryset.filter(start__gte=now, start__lt=now + self.WINDOWS[self.value()][1])


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    can_delete = False
    ordering = ["position"]
    fields = ["position", "external_id", "full_name", "role", "kaleyra_user_id", "language"]

    def get_fields(self, request, obj=None):
        if request.user.is_superuser:
            return [*self.fields, "access_link"]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The change form of a visit: these fields, all read-only. Named apart, as a tuple of names: the
# stubs read `fields` in the class as field groups, which readonly_fields may not hold.
_TELECONSULTATION_FIELDS = (
    "id",
    "state",
    "start_local",
    "end_local",
    "participants_number",
    "kaleyra_room_id",
    "created_local",
    "created_by",
    "updated_local",
    "updated_by",
)


class NoShowFilter(admin.SimpleListFilter):
    """Whether anyone came, once `collect_attendance` has looked (`rooms.services.attendance`)."""

    title = "attendance"
    parameter_name = "attendance"

    def lookups(self, request, model_admin):
        return [
            ("no-show", "No-show"),
            ("attended", "Attended"),
            ("uncollected", "Not collected"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "no-show":
            return queryset.filter(attendance__no_show=True)
        if self.value() == "attended":
            return queryset.filter(attendance__no_show=False)
        if self.value() == "uncollected":
            return queryset.filter(attendance__isnull=True)
        return queryset


@admin.register(Teleconsultation)
class TeleconsultationAdmin(StoredHere, LocalTimestamps, admin.ModelAdmin):
    # Fits a 1280 px screen with the sidebar open: the room flag first, where a broken visit shows,
    # then start and end in one column and the participants counted and told in another.
    list_display = [
        "room_present",
        "id",
        "participant_names",
        "when",
        "state",
        "participants_known",
    ]
    list_display_links = ["id"]
    list_filter = [
        "state",
        UpcomingFilter,
        ("start", admin.DateFieldListFilter),
        RoomPresentFilter,
        NoShowFilter,
    ]
    # The search box takes a visit id, a Kaleyra room id, a participant's external id or part of
    # a name: `get_search_results`. search_fields only makes Django show the box.
    search_fields = ["=id"]
    search_help_text = "A visit id, a Kaleyra room id, a participant's user id, or part of a name"
    ordering = ["-start"]
    # The list counts at most COUNT_CAP visits, and not the whole table again when filtered: a
    # page costs the same at a million visits as at ten thousand (docs/performance.md).
    paginator = paging.CappedCountPaginator
    show_full_result_count = False
    fields = readonly_fields = _TELECONSULTATION_FIELDS
    inlines = [ParticipantInline]
    actions = actions.ACTIONS
    change_form_template = "admin/rooms/teleconsultation/change_form.html"
    change_list_template = "admin/rooms/teleconsultation/change_list.html"

    def get_queryset(self, request):
        # Prefetched so a page of the list costs the same few queries however long; the page is
        # read in (start, id) order from the tc_start index, nothing grouped or counted per row.
        return super().get_queryset(request).prefetch_related("participants")

    def get_search_results(self, request, queryset, search_term):
        return search.visits_matching(queryset, search_term), False

    @admin.display(description="names")
    def participant_names(self, teleconsultation):
        return ", ".join(member.full_name for member in teleconsultation.participants.all())

    @admin.display(description="start", ordering="start")
    def start_local(self, teleconsultation):
        return local_time(teleconsultation.start)

    @admin.display(description="end", ordering="end")
    def end_local(self, teleconsultation):
        return local_time(teleconsultation.end)

    @admin.display(description="when", ordering="start")
    def when(self, teleconsultation):
        """ "2026-12-01 11:00–11:30 CET"; both in full when the visit ends on another day."""
        start = timezone.localtime(teleconsultation.start)
        end = timezone.localtime(teleconsultation.end)
        if start.date() != end.date():
            return f"{local_time(start)} – {local_time(end)}"
        return f"{start:%Y-%m-%d %H:%M}–{end.strftime('%H:%M %Z')}"

    @admin.display(description="room", boolean=True)
    def room_present(self, teleconsultation):
        return bool(teleconsultation.kaleyra_room_id)

    @admin.display(description="people")
    def participants_known(self, teleconsultation):
        """Known / expected and whether every one is known: "1/2 waiting", "2/2 complete"."""
        known, expected = self._known(teleconsultation), teleconsultation.participants_number
        return f"{known}/{expected} {'complete' if known >= expected else 'waiting'}"

    def _known(self, teleconsultation) -> int:
        return len(teleconsultation.participants.all())  # prefetched with the page

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # erasing bypasses Kaleyra; "move to trash" is the way

    def get_urls(self):
        run = self.admin_site.admin_view(self.run_action_view)
        link = self.admin_site.admin_view(self.recording_link_view)
        return [
            path("<path:object_id>/run/<str:action>/", run, name="rooms_teleconsultation_run"),
            path(
                "<path:object_id>/recording-link/",
                link,
                name="rooms_teleconsultation_recording_link",
            ),
            *super().get_urls(),
        ]

    def run_action_view(self, request, object_id, action):
        return actions.run_on_one(self, request, object_id, action)

    def recording_link_view(self, request, object_id):
        return recordings.link_view(self, request, object_id)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        events, events_cut = kaleyra_events.rows(object_id)
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete_link": False,
            "support_actions": actions.buttons(self, request),
            **self._window_and_trail(object_id),
            "kaleyra_events": events,
            "kaleyra_events_cut": events_cut,
            "recordings": recordings.rows(object_id),
            "may_download_recordings": recordings.may_download(request),
            "attendance": attendance_panel(object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _window_and_trail(self, object_id: str) -> dict:
        storage = get_storage()
        teleconsultation = storage.find(object_id, include_trash=True)
        if teleconsultation is None:
            return {}
        closes = join_window.closes_at(teleconsultation)
        batches = storage.audit_entries(
            since=EPOCH, teleconsultation_id=object_id, batch_size=AUDIT_SHOWN + 1
        )
        trail = next(batches, [])
        return {
            "join_window": {
                "opens": local_time(join_window.opens_at(teleconsultation)),
                "closes": local_time(closes)
                if closes
                else "never (JOIN_CLOSES_AFTER_END_MS unset)",
                "open_now": join_window.is_open(teleconsultation, now=timezone.now()),
            },
            "audit_trail": [
                {
                    "time": local_time_seconds(entry.at),
                    "entry": entry,
                    "detail": json.dumps(dict(entry.detail), sort_keys=True),
                }
                for entry in trail[:AUDIT_SHOWN]
            ],
            "audit_trail_cut": len(trail) > AUDIT_SHOWN,
        }


def attendance_panel(object_id: str) -> dict | None:
    """The visit's attendance as its page shows it; None until collected."""
    collected = get_storage().attendance(object_id)
    if collected is None:
        return None
    return {
        "collected": local_time_seconds(collected.collected_at),
        "no_show": collected.no_show,
        "rows": [
            {
                "user_id": attendee.user_id,
                "kaleyra_user_id": attendee.kaleyra_user_id,
                "joined": local_time_seconds(attendee.joined_at),
                "left": local_time_seconds(attendee.left_at)
                if attendee.left_at
                else "still in a call",
                "duration": str(timedelta(seconds=attendee.seconds_in_call)),
                "sessions": attendee.sessions,
            }
            for attendee in collected.attendees
        ],
    }


@admin.register(UserMapping)
class UserMappingAdmin(StoredHere, LocalTimestamps, admin.ModelAdmin):
    list_display = ["external_id", "kaleyra_user_id", "role", "created_local", "updated_local"]
    list_filter = ["role"]
    search_fields = ["external_id", "kaleyra_user_id"]
    readonly_fields = ["external_id", "kaleyra_user_id", "role", "created_local", "updated_local"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # made and kept by the services; a wrong row would misroute a user

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoomJob)
class RoomJobAdmin(StoredHere, LocalTimestamps, admin.ModelAdmin):
    """Rooms still to delete on Kaleyra, rooms being created (an intent whose lease has run out,
    or an abandoned one, is a possible orphan: its tag is in the room's description), and the
    swap slots of visits whose room is being changed."""

    list_display = [
        "kind",
        "key",
        "teleconsultation_id",
        "reason",
        "attempts",
        "abandoned",
        "last_error",
        "created_local",
        "updated_local",
    ]
    list_filter = ["kind", "abandoned"]
    search_fields = ["key", "teleconsultation_id"]
    readonly_fields = ["created_local", "updated_local"]
    ordering = ["created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # read-only: reconcile_rooms works through this list

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(StoredHere, admin.ModelAdmin):
    """The whole audit trail, read-only: who did what, when, with which outcome."""

    list_display = [
        "at",
        "actor",
        "action",
        "teleconsultation_id",
        "outcome",
        "client_type",
        "request_id",
    ]
    list_filter = ["action", "outcome", "client_type"]
    search_fields = ["=teleconsultation_id", "=actor", "=request_id"]
    ordering = ["-at", "-id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # an audit trail that can be edited proves nothing

    def has_delete_permission(self, request, obj=None):
        return False  # retention is cleanup_teleconsultations --audit-older-than-days


@admin.register(WebhookEvent)
class WebhookEventAdmin(StoredHere, admin.ModelAdmin):
    """Kaleyra's webhook events as they came, read-only: what Kaleyra said about a room, when."""

    list_display = [
        "timestamp_local",
        "event",
        "room_id",
        "teleconsultation_id",
        "namespace",
        "received_local",
    ]
    list_filter = ["event", ("timestamp", admin.DateFieldListFilter)]
    search_fields = ["=room_id", "=teleconsultation_id"]
    ordering = ["-timestamp", "-id"]
    date_hierarchy = "timestamp"
    fields = readonly_fields = (
        "id",
        "event",
        "timestamp_local",
        "room_id",
        "teleconsultation_id",
        "namespace",
        "event_version",
        "data",
        "received_local",
    )

    @admin.display(description="time", ordering="timestamp")
    def timestamp_local(self, event):
        return local_time_seconds(event.timestamp)

    @admin.display(description="received at", ordering="received_at")
    def received_local(self, event):
        return local_time_seconds(event.received_at)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # what Kaleyra said, kept as said

    def has_delete_permission(self, request, obj=None):
        return False  # retention is cleanup_teleconsultations --webhook-events-older-than-days
