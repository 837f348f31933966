"""DELETE /teleconsultation/{id} and DELETE /teleconsultation/{id}/uploads."""

from datetime import timedelta

import pytest

from tests.rooms.conftest import NOW, doctor, jobs, patient, stored

pytestmark = [
    pytest.mark.usefixtures("storage_backend"),
    pytest.mark.django_db,
]


def test_delete_removes_the_room_and_keeps_the_record_in_trash(api, create, simulator):
    room_id = create([doctor(), patient()])
    kaleyra_room = stored(room_id).kaleyra_room_id
    response = api.delete(f"/teleconsultation/{room_id}")
    assert response.status_code == 204
    assert not simulator.room_exists(kaleyra_room)
    assert stored(room_id).state == "TRASH"
    assert jobs("room_deletion") == []


@pytest.fixture(autouse=True)
def _uploads_deletion_on(settings):
    # With deletion off, DELETE …/uploads answers 204 before any lookup (the contract), so the
    # every-endpoint checks below need it on to see the lookup.
    settings.TELECONSULTATION_DELETE_UPLOADS = True


def every_endpoint_status(api, room_id) -> set[int]:
    """The statuses of GET, PATCH, DELETE, add participant and DELETE uploads on one id."""
    base = f"/teleconsultation/{room_id}"
    api.as_user("doctor-1")
    return {
        api.get(base).status_code,
        api.patch(base, {"duration_in_seconds": 900}, format="json").status_code,
        api.post(f"{base}/participants/data", patient("x"), format="json").status_code,
        api.delete(f"{base}/uploads").status_code,
        api.delete(base).status_code,
    }


def test_after_delete_every_endpoint_answers_404(api, create, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True  # else uploads answer 204 without a lookup
    room_id = create([doctor(), patient()])
    api.delete(f"/teleconsultation/{room_id}")
    assert every_endpoint_status(api, room_id) == {404}


def test_delete_without_a_room_does_not_call_kaleyra(api, create, simulator):
    room_id = create([doctor()], number=2)
    simulator.reset_call_log()
    assert api.delete(f"/teleconsultation/{room_id}").status_code == 204
    assert simulator.call_count() == 0


def test_delete_works_when_the_provider_is_down_and_remembers_the_room(api, create, simulator):
    room_id = create([doctor(), patient()])
    kaleyra_room = stored(room_id).kaleyra_room_id
    simulator.fail_next("delete_room", mode="drop", times=10)
    assert api.delete(f"/teleconsultation/{room_id}").status_code == 204
    assert stored(room_id).state == "TRASH"
    assert [job.key for job in jobs("room_deletion")] == [kaleyra_room]


def test_delete_of_an_unknown_teleconsultation_is_a_404(api):
    assert api.delete("/teleconsultation/0123456789abcdef01234567").status_code == 404


@pytest.mark.parametrize("which", ["known", "unknown", "malformed"])
def test_uploads_deletion_is_a_204_before_any_lookup_when_disabled(
    api, create, simulator, settings, django_assert_num_queries, storage_backend, which
):
    settings.TELECONSULTATION_DELETE_UPLOADS = False
    room_id = {
        "known": create([doctor(), patient()]),
        "unknown": "0123456789abcdef01234567",
        "malformed": "not-an-id",
    }[which]
    simulator.reset_call_log()
    # Its audit entry (in the CRUD Service on that backend): nothing is looked up.
    with django_assert_num_queries(1 if storage_backend == "django" else 0):
        response = api.delete(f"/teleconsultation/{room_id}/uploads")
    assert response.status_code == 204
    assert simulator.call_count() == 0


@pytest.fixture
def with_three_uploads(create, simulator, settings):
    """A teleconsultation whose room holds three shared files, with upload deletion enabled."""
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    room_id = create([doctor(), patient()])
    kaleyra_room = stored(room_id).kaleyra_room_id
    for _ in range(3):
        simulator.add_upload(kaleyra_room)
    return room_id


def test_uploads_are_deleted_and_counted(api, with_three_uploads):
    room_id = with_three_uploads
    response = api.delete(f"/teleconsultation/{room_id}/uploads")
    assert response.status_code == 200
    assert response.json() == {"total": 3, "deleted": 3}
    assert api.delete(f"/teleconsultation/{room_id}/uploads").json() == {"total": 0, "deleted": 0}


def test_a_repeat_after_a_partial_failure_deletes_the_rest(api, simulator, with_three_uploads):
    room_id = with_three_uploads
    simulator.fail_next("delete_upload", mode="500")
    assert api.delete(f"/teleconsultation/{room_id}/uploads").json() == {"total": 3, "deleted": 2}
    assert api.delete(f"/teleconsultation/{room_id}/uploads").json() == {"total": 1, "deleted": 1}


def test_an_upload_gone_by_the_retry_counts_as_deleted(api, simulator, with_three_uploads):
    # Kaleyra deletes the first file but the answer is lost; the retry finds it gone (a 404).
    room_id = with_three_uploads
    simulator.fail_next("delete_upload", mode="drop_after")
    response = api.delete(f"/teleconsultation/{room_id}/uploads")
    assert response.json() == {"total": 3, "deleted": 3}
    assert simulator.call_count("delete_upload") == 4
    assert simulator.uploads(stored(room_id).kaleyra_room_id) == []


def test_uploads_of_an_unknown_teleconsultation_are_a_404(api, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    assert api.delete("/teleconsultation/0123456789abcdef01234567/uploads").status_code == 404


def test_listing_uploads_when_the_provider_is_down_is_a_503(api, create, simulator, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    room_id = create([doctor(), patient()])
    simulator.fail_next("iter_room_uploads", mode="drop", times=10)
    assert api.delete(f"/teleconsultation/{room_id}/uploads").status_code == 503


def test_a_locked_teleconsultation_can_still_be_deleted(api, create, simulator, settings, clock):
    settings.IMMUTABLE_PERIOD_MS = 60 * 60 * 1000
    room_id = create([doctor(), patient()])
    clock.move_to(NOW + timedelta(hours=1, minutes=30))  # inside the immutable period
    patched = api.patch(f"/teleconsultation/{room_id}", {"duration_in_seconds": 900}, format="json")
    assert patched.status_code == 409
    assert api.delete(f"/teleconsultation/{room_id}").status_code == 204
    assert stored(room_id).state == "TRASH"


@pytest.mark.parametrize("room_id", ["ab%00cd", "0123456789ABCDEF01234567", "x" * 300])
def test_ids_that_cannot_exist_are_404s_on_every_endpoint(api, room_id, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True  # else uploads answer 204 without a lookup
    assert every_endpoint_status(api, room_id) == {404}
