"""Records of the teleconsultation domain, mirroring Mia's two CRUD collections.

`Teleconsultation` + `Participant` are Mia's teleconsultations collection, `UserMapping` its user id
map. `PendingRoomDeletion` remembers Kaleyra rooms that must still be deleted after a failure, so
`reconcile_rooms` can finish the job and no room is left orphaned.
"""

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


def new_teleconsultation_id() -> str:
    """24 lowercase hex characters from a CSPRNG: the shape of a Mia `_id`, never guessable."""
    return secrets.token_hex(12)


class Teleconsultation(models.Model):
    class State(models.TextChoices):
        PUBLIC = "PUBLIC"
        TRASH = "TRASH"

    class Lifecycle(models.TextChoices):
        """Mia's `teleconsultationState`, derived from the record rather than stored twice."""

        WAITING = "WAITING_FOR_PARTICIPANTS", "Waiting for participants"
        READY = "ROOM_READY", "Room ready"
        DELETED = "DELETED", "Deleted"

    id = models.CharField(
        primary_key=True, max_length=24, default=new_teleconsultation_id, editable=False
    )
    kaleyra_room_id = models.CharField(max_length=128, null=True, blank=True, unique=True)
    participants_number = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    state = models.CharField(max_length=8, choices=State.choices, default=State.PUBLIC)
    # Optimistic concurrency: every write bumps it; a writer that read an older one starts over.
    version = models.PositiveIntegerField(default=1)
    # Set while one request creates the room, so a concurrent one never creates a second.
    room_claim = models.CharField(max_length=32, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.CharField(max_length=255, blank=True, default="")
    updated_by = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["state", "end"], name="tc_state_end"),
            models.Index(fields=["state", "start"], name="tc_state_start"),
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

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def immutable_from(self) -> datetime:
        """From this moment a complete teleconsultation is locked and its links are handed out."""
        return self.start - timedelta(milliseconds=settings.IMMUTABLE_PERIOD_MS)

    @property
    def lifecycle(self) -> str:
        if self.state == self.State.TRASH:
            return self.Lifecycle.DELETED
        return self.Lifecycle.READY if self.kaleyra_room_id else self.Lifecycle.WAITING


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
    language = models.CharField(max_length=2, blank=True, default="")
    role = models.CharField(max_length=5, choices=Role.choices)
    kaleyra_user_id = models.CharField(max_length=128)
    access_link = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["teleconsultation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["teleconsultation", "external_id"], name="participant_once_per_visit"
            )
        ]
        indexes = [models.Index(fields=["external_id"], name="participant_external_id")]

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


class PendingRoomDeletion(models.Model):
    """A Kaleyra room that must be deleted but could not be yet (provider down, crash)."""

    kaleyra_room_id = models.CharField(max_length=128, unique=True)
    teleconsultation_id = models.CharField(max_length=24, blank=True, default="")
    reason = models.CharField(max_length=255)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.kaleyra_room_id
