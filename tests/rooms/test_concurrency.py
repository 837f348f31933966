"""Concurrent additions never lose a participant and never create two rooms (PostgreSQL)."""

import pytest
from django.test import Client

from tests.rooms.conftest import body, doctor, patient, run_in_parallel, stored

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.postgres_only,
]


# The back office may write to any visit (who may write is tested in test_write_access.py).
BACK_OFFICE = {"HTTP_ISBACKOFFICE": "true"}


def waiting_teleconsultation(number: int) -> str:
    created = Client(headers={"isbackoffice": "true"}).post(
        "/teleconsultation", body([doctor()], number=number), content_type="application/json"
    )
    return created.json()["roomId"]


def adding(room_id: str, user_id: str):
    return lambda: (
        Client(headers={"isbackoffice": "true"})
        .post(
            f"/teleconsultation/{room_id}/participants/data",
            patient(user_id),
            content_type="application/json",
            **BACK_OFFICE,
        )
        .status_code
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_additions_keep_every_participant_and_make_one_room(simulator):
    room_id = waiting_teleconsultation(6)
    statuses = run_in_parallel([adding(room_id, f"p{i}") for i in range(5)])
    assert statuses == [201] * 5
    visit = stored(room_id)
    assert len(visit.participants) == 6
    assert simulator.call_count("create_room") == 1
    assert simulator.room_exists(visit.kaleyra_room_id)


@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_place_admits_exactly_one(simulator):
    room_id = waiting_teleconsultation(2)
    statuses = run_in_parallel([adding(room_id, f"p{i}") for i in range(4)])
    assert sorted(statuses) == [201, 409, 409, 409]
    assert len(stored(room_id).participants) == 2
    assert simulator.call_count("create_room") == 1
