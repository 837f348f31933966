"""The poll's answer is written out (rooms/api/serializers.py `access_body`) and served by plain
Django when DRF's negotiation has nothing to decide: it must stay AccessSerializer's, which the
OpenAPI document shows, and answer every Accept header as DRF did."""

from datetime import timedelta

import pytest

from rooms.api.serializers import AccessSerializer, access_body
from rooms.selectors.join_link import Access, CallParticipant
from tests.rooms.conftest import NOW, START

DETAILS = {
    "recording": "automatic",
    "recordingStatus": None,
    "callType": "audio_video",
    "description": "visit",
    "status": None,
    "disabled": False,
    "creationDate": "2026-12-01T08:00:00.000Z",
    "durationInSeconds": 1800,
    "durationUsedInSeconds": None,
    "live": True,
}


@pytest.mark.parametrize(
    "access",
    [
        Access(
            kaleyra_user_id="k-patient",
            access_link=None,
            available_from=START - timedelta(minutes=15),
            closed_at=None,
            participants=(CallParticipant("k-doctor", "Dr. Ada"), CallParticipant("k-p", "Mario")),
            details=DETAILS,
        ),
        Access(
            kaleyra_user_id="k-patient",
            access_link="https://example.kaleyra.com/rest-call-handler/abc?language=it",
            available_from=NOW,
            closed_at=NOW + timedelta(hours=3, microseconds=1500),
            participants=(),
            details=None,
        ),
        # Details cached by another release: a key missing, values of another type.
        Access(
            kaleyra_user_id="k-patient",
            access_link=None,
            available_from=NOW,
            closed_at=None,
            participants=(CallParticipant("k-doctor", "Dr. Ada"),),
            details={"recording": "none", "disabled": "false", "durationInSeconds": "60"},
        ),
    ],
)
def test_the_written_out_answer_is_the_serializers(access):
    assert access_body(access) == AccessSerializer(access).data
    assert list(access_body(access)) == list(AccessSerializer(access).data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json, text/plain, */*", "text/html, */*"],
)
def test_an_accept_header_that_takes_json_gets_the_same_answer(api, visit, accept):
    api.as_user("patient-1", ("customer",))
    plain = api.get(f"/teleconsultation/{visit}")
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = api.get(f"/teleconsultation/{visit}", **headers)
    assert response.status_code == 200
    assert response.content == plain.content
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, PATCH, DELETE, HEAD, OPTIONS"


@pytest.mark.django_db
def test_what_only_drf_can_judge_is_still_judged_by_drf(api, visit):
    api.as_user("patient-1", ("customer",))
    refused = api.get(f"/teleconsultation/{visit}", HTTP_ACCEPT="text/html")
    assert refused.status_code == 406
    assert refused.json()["message"] == "Could not satisfy the request Accept header."
    indented = api.get(f"/teleconsultation/{visit}", HTTP_ACCEPT="application/json; indent=2")
    assert indented.status_code == 200 and indented.content.startswith(b'{\n  "bandyerUserId"')
    assert api.get(f"/teleconsultation/{visit}", {"format": "json"}).status_code == 200
    assert api.get(f"/teleconsultation/{visit}", {"format": "xml"}).status_code == 404
