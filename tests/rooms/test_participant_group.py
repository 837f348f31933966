"""`group` (one string, as Mia's usage page names it) in place of `groups` in a participant."""

import pytest

from tests.rooms.conftest import body, doctor, stored

pytestmark = [pytest.mark.django_db]


def add(api, room_id, entry):
    return api.post(f"/teleconsultation/{room_id}/participants/data", entry, format="json")


def participant(room_id, external_id):
    return stored(room_id).participant(external_id)


@pytest.mark.parametrize(("group", "role"), [("customer", "basic"), ("doctor", "plus")])
def test_added_with_group_the_participant_gets_that_group_and_its_role(api, create, group, role):
    room_id = create([doctor()], number=3)
    entry = {"userExternalId": "p-1", "group": group, "fullName": "Mario Bianchi"}
    response = add(api, room_id, entry)
    assert response.status_code == 201, response.json()
    added = participant(room_id, "p-1")
    assert (added.groups, added.role) == ((group,), role)


def test_group_and_groups_together_are_a_400(api, create):
    room_id = create([doctor()], number=3)
    entry = {"userExternalId": "p-1", "group": "customer", "groups": ["customer"], "fullName": "M"}
    response = add(api, room_id, entry)
    assert response.status_code == 400
    assert response.json()["details"] == {"group": ["Send either group or groups, not both."]}
    assert participant(room_id, "p-1") is None


@pytest.mark.parametrize("group", [["customer"], 5, None, ""])
def test_a_group_that_is_not_one_string_is_a_400(api, create, group):
    room_id = create([doctor()], number=3)
    response = add(api, room_id, {"userExternalId": "p-1", "group": group, "fullName": "M"})
    assert response.status_code == 400
    assert "group" in response.json()["details"]


def test_a_group_granting_no_role_is_the_same_400_as_groups(api, create):
    room_id = create([doctor()], number=3)
    response = add(api, room_id, {"userExternalId": "n-1", "group": "nurse", "fullName": "N"})
    assert response.status_code == 400
    assert "user n-1 has groups (nurse) that grant no role" in response.json()["message"]


def test_a_data_entry_of_post_teleconsultation_may_use_group_too(api):
    patient = {"userExternalId": "p-1", "group": "customer", "fullName": "Mario Bianchi"}
    response = api.post("/teleconsultation", body([doctor(), patient]), format="json")
    assert response.status_code == 201, response.json()
    assert participant(response.json()["roomId"], "p-1").groups == ("customer",)


def test_with_auth_service_group_is_refused_like_groups(api, create, settings):
    room_id = create([doctor()], number=3)
    settings.AUTH_SERVICE = "auth0-client"
    response = add(api, room_id, {"userExternalId": "p-1", "group": "customer"})
    assert response.status_code == 400
    assert "user directory" in " ".join(response.json()["details"]["group"])
