"""The Django backend's tables, mirroring Mia's two CRUD collections.

`Teleconsultation` + `Participant` are Mia's teleconsultations collection, `UserMapping` its user id
map. `RoomJob` is the service's own bookkeeping (rooms to delete, rooms being created), so
`reconcile_rooms` can finish what a failure left and no room is left orphaned; `WebhookEvent` keeps
the events Kaleyra posts. Only `rooms.storage.django` (and the read-only admin) use these;
everything else sees `rooms.domain`'s domain objects.
"""

import secrets

from django.db import models


def new_teleconsultation_id() -> str:
    """24 lowercase hex characters from a CSPRNG: the shape of a Mia `_id`, never guessable."""
    return secrets.token_hex(12)


def new_job_id() -> str:
    return secrets.token_hex(12)


class Teleconsultation(models.Model):
    class State(models.TextChoices):
        PUBLIC = "PUBLIC"
        DRAFT = "DRAFT"
        TRASH = "TRASH"

    id = models.CharField(
        primary_key=True, max_length=24, default=new_teleconsultation_id, editable=False
    )
    kaleyra_room_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    participants_number = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PUBLIC)
    # Set while one request creates the room, so a concurrent one never creates a second.
    room_claim = models.CharField(max_length=32, null=True, blank=True)
    # none, manual or automatic, when the visit asked; null follows KALEYRA_RECORDING.
    recording = models.CharField(max_length=9, null=True, blank=True)
    # Bumped by every write: the calendar feed's SEQUENCE (rooms/selectors/calendar.py).
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(max_length=255, blank=True, default="")
    updated_by = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        # A recording's link opens a recorded consultation: given to chosen staff, not to all.
        permissions = [("download_recording", "Can fetch a recording's download link")]
        indexes = [
            # With id: the support commands' batches of ended visits are ranges of it, in
            # (end, id) order (rooms/storage/django.py `_end_batches`).
            models.Index(fields=["state", "end", "id"], name="tc_state_end_id"),
            models.Index(fields=["state", "start"], name="tc_state_start"),
            # The admin's visit list, newest first (ordering -start, -id): a page is an index range.
            models.Index(fields=["start", "id"], name="tc_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="tc_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(participants_number__gte=2, participants_number__lte=25),
                name="tc_participants_number_range",
            ),
        ]

    def __str__(self) -> str:
        return self.id


class Participant(models.Model):
    class Role(models.TextChoices):
        PLUS = "plus"
        BASIC = "basic"

    teleconsultation = models.ForeignKey(
        Teleconsultation, on_delete=models.CASCADE, related_name="participants"
    )
    position = models.PositiveSmallIntegerField()
    external_id = models.CharField(max_length=255)
    groups = models.JSONField(default=list)
    full_name = models.CharField(max_length=255)
    language = models.CharField(max_length=35, blank=True, default="")
    role = models.CharField(max_length=5, choices=Role.choices)
    kaleyra_user_id = models.CharField(max_length=128)
    access_link = models.TextField(blank=True, default="")
    # The visit's start, kept with it by every write (rooms/storage/django.py): a person's agenda
    # is then a range of the participant_agenda index, however many visits they or others have.
    visit_start = models.DateTimeField()

    class Meta:
        ordering = ["teleconsultation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["teleconsultation", "external_id"], name="participant_once_per_visit"
            )
        ]
        indexes = [
            models.Index(
                fields=["external_id", "visit_start", "teleconsultation"], name="participant_agenda"
            ),
            # Kaleyra's user details lookups (`display_names`) ask by Kaleyra user id.
            models.Index(fields=["kaleyra_user_id"], name="participant_kaleyra_user"),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.external_id})"


class UserMapping(models.Model):
    """Mia's user id map: an external user id -> the Kaleyra user made for it, with its role."""

    external_id = models.CharField(max_length=255, unique=True)
    kaleyra_user_id = models.CharField(max_length=128, unique=True)
    role = models.CharField(max_length=5, choices=Participant.Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "user mapping"

    def __str__(self) -> str:
        return f"{self.external_id} -> {self.kaleyra_user_id}"


class RoomJob(models.Model):
    """Bookkeeping that keeps Kaleyra and the records in step (see `rooms.domain.JobKind`)."""

    id = models.CharField(primary_key=True, max_length=24, default=new_job_id, editable=False)
    kind = models.CharField(max_length=32)
    key = models.CharField(max_length=128)
    teleconsultation_id = models.CharField(max_length=24, blank=True, default="")
    reason = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")
    abandoned = models.BooleanField(default=False)
    payload = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="room_job_once")]
        indexes = [
            models.Index(fields=["kind", "attempts", "id"], name="room_job_queue"),
            models.Index(fields=["teleconsultation_id"], name="room_job_teleconsultation"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class AuditEntry(models.Model):
    """Who did what (`rooms.services.audit`): kept apart from the logs and outliving the visits it
    names, so `teleconsultation_id` is a plain column, not a foreign key."""

    id = models.CharField(primary_key=True, max_length=24, editable=False)
    at = models.DateTimeField()
    actor = models.CharField(max_length=255)
    action = models.CharField(max_length=64)
    teleconsultation_id = models.CharField(max_length=24, blank=True, default="")
    outcome = models.CharField(max_length=32)
    request_id = models.CharField(max_length=128, blank=True, default="")
    client_type = models.CharField(max_length=64, blank=True, default="")
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["at", "id"], name="audit_time"),
            models.Index(fields=["teleconsultation_id", "at", "id"], name="audit_teleconsultation"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor}"


class WebhookEvent(models.Model):
    """An event Kaleyra posted to `POST /webhooks/kaleyra` (`rooms.services.webhook_events`), kept
    as it came. Like audit entries it outlives the visit it names: `teleconsultation_id` is a plain
    column. The unique (event, room_id, timestamp) is how a replay is recognised."""

    id = models.CharField(primary_key=True, max_length=24, editable=False)
    event = models.CharField(max_length=255)
    room_id = models.CharField(max_length=255, blank=True, default="")
    timestamp = models.DateTimeField()
    event_version = models.CharField(max_length=255, blank=True, default="")
    namespace = models.CharField(max_length=255, blank=True, default="")
    teleconsultation_id = models.CharField(max_length=24, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        verbose_name = "Kaleyra webhook event"
        constraints = [
            models.UniqueConstraint(
                fields=["event", "room_id", "timestamp"], name="webhook_event_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["teleconsultation_id", "timestamp", "id"], name="webhook_event_visit"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.room_id}"


class CalendarFeed(models.Model):
    """A person's calendar feed (GET /calendar/<secret>.ics): one per external user id, found by
    the SHA-256 of its secret; the secret itself is shown once and never stored."""

    external_id = models.CharField(max_length=255, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "calendar feed"

    def __str__(self) -> str:
        return f"calendar feed of {self.external_id}"


class VisitEvent(models.Model):
    """One visit event for one receiver (VISIT_EVENTS_URLS), the outbox `send_visit_events`
    delivers from (`rooms.services.visit_events`). Written in the transaction of the change it
    tells (Django backend), or by the worker for `visit.starting` and `visit.ended`. `event_id` is
    the CloudEvents id, the same for every receiver: theirs to de-duplicate an event delivered
    twice (delivery is at least once). `key` says which change it tells, so an event the worker
    emits (a visit's start drawing near) is recorded once per visit, lead time and receiver."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        DEAD = "dead"

    event_id = models.CharField(max_length=36, editable=False)
    key = models.CharField(max_length=255, editable=False)
    type = models.CharField(max_length=64)
    teleconsultation_id = models.CharField(max_length=24, blank=True, default="")
    url = models.CharField(max_length=2048)
    body = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        verbose_name = "visit event"
        constraints = [
            models.UniqueConstraint(fields=["key", "url"], name="visit_event_once"),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="visit_event_due"),
            models.Index(fields=["teleconsultation_id", "created_at"], name="visit_event_visit"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.teleconsultation_id}"


class Attendance(models.Model):
    """Who joined a visit's calls (`rooms.services.attendance`), one row per visit, written again
    each time it is collected. `attendees` is a list of {userId, kaleyraUserId, joinedAt, leftAt,
    secondsInCall, sessions}; `no_show` (fewer than two joined) is a column for the admin's
    filter."""

    teleconsultation = models.OneToOneField(
        Teleconsultation, on_delete=models.CASCADE, primary_key=True, related_name="attendance"
    )
    collected_at = models.DateTimeField()
    no_show = models.BooleanField(db_index=True)
    attendees = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"attendance of {self.teleconsultation_id}"
