"""What the failure-model tests share: fast provider failures, orphan rooms, one reconcile run."""

from io import StringIO

from django.core.management import call_command

from rooms.storage import get_storage
from tests.rooms.conftest import jobs

READ_TIMEOUT = 0.2
SLOW_ANSWER = 2 * READ_TIMEOUT  # how late a "timeout" fault answers


def fail_fast(settings) -> None:
    """One retry, short timeouts and deadline: a request that times out costs under a second."""
    settings.KALEYRA_READ_TIMEOUT = READ_TIMEOUT
    settings.KALEYRA_MAX_RETRIES = 1
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 2.0


def orphan_rooms(simulator) -> list[str]:
    """Rooms the provider has that no live visit holds."""
    storage = get_storage()
    return [room for room in simulator.rooms() if not storage.room_in_use(room)]


def tag_of(simulator, room: str) -> str | None:
    """The room's description: the tag of the intent it was made for."""
    return simulator.get_room_record(room)["description"]


def known_to_storage(simulator, room: str) -> bool:
    """A room waiting to be deleted, or one tagged with a pending intent: reconcile finds it."""
    if room in {job.key for job in jobs("room_deletion")}:
        return True
    return tag_of(simulator, room) in {job.key for job in jobs("room_intent")}


def reconcile() -> str:
    """One reconcile_rooms run; its stdout (a failed run raises CommandError)."""
    out = StringIO()
    call_command("reconcile_rooms", stdout=out, stderr=StringIO())
    return out.getvalue()
