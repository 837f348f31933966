"""The whole flow through the real HTTP client, against the simulator served over HTTP."""

from datetime import timedelta

import pytest
import requests

from kaleyra.ids import kaleyra_user_id_for
from tests.rooms.conftest import NOW, body, doctor, patient, stored

pytestmark = [pytest.mark.django_db]


def test_create_complete_poll_join_and_delete_over_http(api, simulator_http, clock):
    created = api.post("/teleconsultation", body([doctor()], number=2), format="json")
    assert created.status_code == 201
    room_id = created.json()["roomId"]

    added = api.post(
        f"/teleconsultation/{room_id}/participants/data",
        patient(full_name="Mario Bianchi"),
        format="json",
    )
    assert added.status_code == 201

    api.as_user("patient-1", ("customer",))
    waiting = api.get(f"/teleconsultation/{room_id}").json()
    assert waiting["details"] is not None
    clock.move_to(NOW + timedelta(hours=2))
    link = api.get(f"/teleconsultation/{room_id}", {"language": "it"}).json()["accessLinkURL"]
    assert link

    page = requests.get(link, timeout=5)
    assert page.status_code == 200
    kaleyra_room = stored(room_id).kaleyra_room_id
    assert kaleyra_room in page.text and kaleyra_user_id_for("patient-1") in page.text
    assert "Mario Bianchi" not in link  # the call asks POST /kaleyra/user-details for names

    assert api.delete(f"/teleconsultation/{room_id}").status_code == 403  # a patient may not
    api.as_user("doctor-1", ("doctor",))
    assert api.delete(f"/teleconsultation/{room_id}").status_code == 204
    assert not simulator_http.room_exists(kaleyra_room)
    assert api.get(f"/teleconsultation/{room_id}").status_code == 404
