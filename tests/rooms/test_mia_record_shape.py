"""A visit made through the API is stored in the shape Mia's service writes (CONTRACT.md, Storage),
in either backend: the CRUD Service document as it is, this service's rows in Mia's names."""

import pytest
from django.conf import settings

from rooms.storage import get_storage
from rooms.storage.mia_records import (
    iso,
    record_fields,
    teleconsultation_from_record,
    user_mapping_fields,
)
from tests.rooms.conftest import body, doctor, patient, stored

pytestmark = [pytest.mark.django_db]

# Mia's documented fields, and the few this service adds to them.
MIA_FIELDS = {
    "_id",
    "bandyerRoomId",
    "participantsNumber",
    "participants",
    "startDate",
    "endDate",
    "__STATE__",
    "creatorId",
    "updaterId",
    "createdAt",
    "updatedAt",
}
ADDED_FIELDS = {"version", "roomClaim"}
MIA_PARTICIPANT_FIELDS = {"userBandyerId", "accessLinkURL", "groups", "fullName", "language"}
ADDED_PARTICIPANT_FIELDS = {"userExternalId", "role"}
MIA_USER_MAP_FIELDS = {"receivedUserId", "bandyerId"}


def as_stored(storage_backend: str, request, visit: str) -> tuple[dict, list[dict]]:
    """The visit's record and the user map, as Mia's collections would hold them."""
    if storage_backend == "crud":
        crud = request.getfixturevalue("crud_simulator")
        return (
            crud.document(settings.TELECONSULTATIONS_CRUD_NAME, visit),
            crud.documents(settings.USER_ID_MAP_CRUD_NAME),
        )
    teleconsultation = stored(visit)
    record = {
        **record_fields(teleconsultation),
        "version": teleconsultation.version,
        # What the CRUD Service stamps on every document.
        "_id": teleconsultation.id,
        "__STATE__": teleconsultation.state.value,
        "creatorId": teleconsultation.created_by,
        "updaterId": teleconsultation.updated_by,
        "createdAt": iso(teleconsultation.created_at),
        "updatedAt": iso(teleconsultation.updated_at),
    }
    people = [member.external_id for member in teleconsultation.participants]
    user_map = [user_mapping_fields(m) for m in get_storage().mappings_for(people).values()]
    return record, user_map


@pytest.mark.parametrize("storage_backend", ["django", "crud"], indirect=True)
def test_a_visit_is_stored_with_mias_fields(api, simulator, storage_backend, request):
    api.as_user("doctor-1", ("doctor",))
    people = [doctor(language="it"), patient(full_name="Mario Bianchi")]
    response = api.post("/teleconsultation", body(people), format="json")
    visit = response.json()["roomId"]

    record, user_map = as_stored(storage_backend, request, visit)

    assert MIA_FIELDS <= record.keys() and record.keys() - MIA_FIELDS <= ADDED_FIELDS
    room = simulator.get_room_record(record["bandyerRoomId"])
    assert record["_id"] == visit and record["__STATE__"] == "PUBLIC"
    assert record["participantsNumber"] == 2 and type(record["participantsNumber"]) is int
    assert (record["startDate"], record["endDate"]) == (
        "2026-12-01T10:00:00.000Z",
        "2026-12-01T10:30:00.000Z",
    )
    assert record["creatorId"] == record["updaterId"] == "doctor-1"
    assert record["createdAt"] == record["updatedAt"] == "2026-12-01T08:00:00.000Z"
    kaleyra_ids = {row["receivedUserId"]: row["bandyerId"] for row in user_map}
    links = {member["user_id"]: member["link"] for member in room["participants"]}
    doctor_record, patient_record = record["participants"]
    for member in record["participants"]:
        assert MIA_PARTICIPANT_FIELDS <= member.keys()
        assert member.keys() - MIA_PARTICIPANT_FIELDS <= ADDED_PARTICIPANT_FIELDS
        assert member["userBandyerId"] == kaleyra_ids[member["userExternalId"]]
        assert member["accessLinkURL"] == links[member["userBandyerId"]]
    assert (doctor_record["groups"], doctor_record["fullName"]) == (["doctor"], "Dr. Ada")
    assert (patient_record["groups"], patient_record["fullName"]) == (["customer"], "Mario Bianchi")
    assert (doctor_record["language"], patient_record.get("language")) == ("it", None)
    assert all(MIA_USER_MAP_FIELDS <= row.keys() for row in user_map)
    assert sorted(kaleyra_ids) == ["doctor-1", "patient-1"]
    # Read back as Mia's import reads a record, it is the visit as stored.
    assert teleconsultation_from_record(record, {}) == stored(visit)
