"""DELETE /teleconsultation/{roomId}/uploads with TELECONSULTATION_DELETE_UPLOADS=false (the
default): 204 at once, as Mia answers, before any lookup, to a caller with an identity."""

import pytest

from tests.rooms.conftest import doctor, patient

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize(
    "room_id", ["0123456789abcdef01234567", "not-an-id", "ab%00cd", "0123456789ABCDEF01234567"]
)
def test_any_id_is_a_204_without_a_lookup_or_a_provider_call(
    api, simulator, room_id, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the audit entry
        response = api.delete(f"/teleconsultation/{room_id}/uploads")
    assert response.status_code == 204
    assert response.content == b""
    assert simulator.call_count() == 0


def test_a_live_teleconsultation_is_a_204_and_its_uploads_stay(api, create, simulator):
    room_id = create([doctor(), patient()])
    simulator.reset_call_log()
    assert api.delete(f"/teleconsultation/{room_id}/uploads").status_code == 204
    assert simulator.call_count() == 0


def test_with_deletion_on_an_unknown_id_is_still_a_404(api, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    assert api.delete("/teleconsultation/0123456789abcdef01234567/uploads").status_code == 404


def test_without_identity_it_is_a_401_that_does_not_tell_the_setting(api, simulator):
    response = api.anonymous().delete("/teleconsultation/0123456789abcdef01234567/uploads")
    assert response.status_code == 401
    assert response.json()["message"] == "Unauthorized user"
    assert simulator.call_count() == 0


def test_without_identity_in_the_open_mode_it_is_mia_s_204(api, settings, simulator):
    settings.TELECONSULTATION_WRITE_ACCESS = "open"
    response = api.anonymous().delete("/teleconsultation/0123456789abcdef01234567/uploads")
    assert response.status_code == 204
    assert simulator.call_count() == 0


def test_with_deletion_on_no_identity_is_a_401(api, settings):
    settings.TELECONSULTATION_DELETE_UPLOADS = True
    response = api.anonymous().delete("/teleconsultation/0123456789abcdef01234567/uploads")
    assert response.status_code == 401
