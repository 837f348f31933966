"""The Kaleyra room as the GET endpoint shows it in `details`, cached per room.

Clients poll GET every 30 s per participant while the link is withheld; without a cache each
poll is a provider call against Kaleyra's rate limit. Details are kept in Django's cache (shared
by replicas when `CACHE_URL` is Redis) for `KALEYRA_ROOM_DETAILS_TTL_SECONDS`. A burst of polls for
one room makes one provider call: the first takes a short lock in the cache, the others wait for
its answer. A replaced room has a new id, so its details are never served for the new one; the
room swap also drops the entry of the room it replaced.
"""

import logging
import threading
import time

from django.conf import settings
from django.core.cache import cache

from kaleyra.errors import KaleyraError
from kaleyra.provider import get_video_provider
from kaleyra.types import Room
from teleconsultation_project.formats import format_datetime

logger = logging.getLogger("teleconsultation.rooms")

LOCK_SECONDS = 10  # longer than one provider call may take; a dead holder's lock expires
WAIT_STEP_SECONDS = 0.02
_local_locks: dict[str, threading.Lock] = {}
_local_locks_guard = threading.Lock()


def as_details(room: Room) -> dict:
    """The Kaleyra room as the Mia service shows it in `details`: Mia's keys, each None when
    Kaleyra's answer does not carry it (no source documents `status`, `disabled`,
    `duration_used` or `recording_status`; nothing is filled in for them)."""
    return {
        "recording": room.recording,
        "recordingStatus": room.recording_status,
        "callType": room.call_type,
        "description": room.description,
        "status": room.status,
        "disabled": room.disabled,
        "creationDate": format_datetime(room.creation_date),
        "durationInSeconds": room.duration,
        "durationUsedInSeconds": room.duration_used,
        "live": room.live,
    }


def cache_key(room_id: str) -> str:
    return f"room-details:{room_id}"


def forget(room_id: str) -> None:
    cache.delete(cache_key(room_id))


def forget_many(room_ids: list[str]) -> None:
    """`forget` of a support command's chunk: one round trip to a shared cache, not one a room."""
    if room_ids:
        cache.delete_many([cache_key(room_id) for room_id in room_ids])


def room_details(room_id: str | None) -> dict | None:
    """The room's details, or None when there is no room or the provider did not answer (the
    participant must still get the link: details are informative only)."""
    if not room_id:
        return None
    ttl = settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS
    if ttl <= 0:
        return _fetch(room_id)
    key = cache_key(room_id)
    cached = cache.get(key)
    if cached is not None:
        return cached
    # One thread per process, then one process across replicas, asks the provider.
    with _local_lock(room_id):
        cached = cache.get(key)
        if cached is not None:
            return cached
        if cache.add(f"{key}:lock", 1, timeout=LOCK_SECONDS):
            try:
                details = _fetch(room_id)
                if details is not None:
                    cache.set(key, details, timeout=ttl)
                return details
            finally:
                cache.delete(f"{key}:lock")
        return _wait_for(key)


def _wait_for(key: str) -> dict | None:
    deadline = time.monotonic() + settings.KALEYRA_ROOM_DETAILS_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(WAIT_STEP_SECONDS)
        cached = cache.get(key)
        if cached is not None:
            return cached
        if cache.get(f"{key}:lock") is None:
            break  # the other replica gave up without an answer
    return None


def _local_lock(room_id: str) -> threading.Lock:
    with _local_locks_guard:
        if len(_local_locks) > 10_000:  # bounded: locks of rooms long gone are dropped
            _local_locks.clear()
        return _local_locks.setdefault(room_id, threading.Lock())


def _fetch(room_id: str) -> dict | None:
    try:
        return as_details(get_video_provider().get_room(room_id))
    except KaleyraError as exc:
        logger.warning("Room details unavailable for %s: %s", room_id, type(exc).__name__)
        return None
