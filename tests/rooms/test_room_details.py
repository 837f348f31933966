"""The room details GET shows, cached per room (rooms/selectors/room_details.py): polls cost Kaleyra
one call per room and TTL, a burst of polls one call in all, and a replaced room's details are never
shown."""

import threading
import time

import pytest
from django.core.cache import cache
from django.test import Client

from kaleyra.provider import get_video_provider
from rooms.selectors import room_details
from tests.rooms.conftest import doctor, patient, stored

pytestmark = [pytest.mark.usefixtures("storage_backend")]

PATIENT = {"HTTP_MIAUSERID": "patient-1", "HTTP_MIAUSERGROUPS": "customer"}


def poll(room_id: str):
    response = Client().get(f"/teleconsultation/{room_id}", **PATIENT)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.django_db
def test_polls_ask_kaleyra_once_per_room_while_the_details_are_kept(visit, simulator, settings):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    simulator.reset_call_log()
    first = poll(visit)
    assert simulator.calls() == {"get_room": 1}
    for _ in range(3):
        assert poll(visit)["details"] == first["details"]
    assert simulator.calls() == {"get_room": 1}


@pytest.mark.django_db
def test_with_the_cache_off_every_poll_asks_kaleyra(visit, simulator, settings):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 0
    simulator.reset_call_log()
    for _ in range(3):
        poll(visit)
    assert simulator.calls() == {"get_room": 3}


@pytest.mark.django_db
def test_a_replaced_rooms_details_are_never_shown(visit, simulator, api, settings):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    old_room = stored(visit).kaleyra_room_id
    old_details = poll(visit)["details"]
    assert old_details["description"] == simulator.get_room_record(old_room)["description"]
    people = [doctor(), patient(), patient("patient-2")]
    changed = {"participants": {"number": 3, "data": people}}
    assert api.patch(f"/teleconsultation/{visit}", changed, format="json").status_code == 204
    new_room = stored(visit).kaleyra_room_id
    assert new_room != old_room

    details = poll(visit)["details"]

    assert details["description"] == simulator.get_room_record(new_room)["description"]
    assert details["description"] != old_details["description"]
    assert cache.get(room_details.cache_key(old_room)) is None  # dropped, not left to expire


@pytest.mark.django_db
def test_a_poll_waits_for_the_answer_another_replica_is_getting(visit, simulator, settings):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    room_id = stored(visit).kaleyra_room_id
    key = room_details.cache_key(room_id)
    cache.add(f"{key}:lock", 1)  # another replica is asking Kaleyra right now
    room = get_video_provider().get_room(room_id)
    answer = {**room_details.as_details(room), "status": "from the other replica"}

    def answer_from_the_other_replica():
        time.sleep(0.1)  # a sleep, not a Timer: a timed wait never ends under faketime
        cache.set(key, answer)

    threading.Thread(target=answer_from_the_other_replica).start()
    simulator.reset_call_log()

    assert poll(visit)["details"] == answer
    assert simulator.call_count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_polls_for_one_room_makes_one_kaleyra_call(
    visit, simulator, settings, monkeypatch
):
    settings.KALEYRA_ROOM_DETAILS_TTL_SECONDS = 30
    provider = get_video_provider()
    real_get_room = provider.get_room

    def slow_get_room(room_id):
        time.sleep(0.2)  # long enough for every poll of the burst to arrive meanwhile
        return real_get_room(room_id)

    monkeypatch.setattr(provider, "get_room", slow_get_room)
    simulator.reset_call_log()
    answers = [None] * 8
    barrier = threading.Barrier(len(answers))

    def poll_at_once(index):
        barrier.wait()
        answers[index] = poll(visit)["details"]

    threads = [threading.Thread(target=poll_at_once, args=(i,)) for i in range(len(answers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert simulator.calls() == {"get_room": 1}
    assert all(details == answers[0] and details is not None for details in answers)
