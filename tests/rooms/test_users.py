"""Kaleyra users made for a visit's people, in parallel, within the request's deadline."""

import pytest

from tests.rooms.conftest import body, doctor, patient

pytestmark = [pytest.mark.django_db]


def test_users_made_in_parallel_stop_at_the_requests_deadline(api, simulator_http, settings):
    settings.KALEYRA_REQUEST_DEADLINE_SECONDS = 0.5
    settings.KALEYRA_READ_TIMEOUT = 0.2
    settings.KALEYRA_MAX_RETRIES = 5
    settings.KALEYRA_RETRY_MAX_SECONDS = 10.0
    simulator_http.fail_next("create_user", mode="timeout", times=20, delay=0.4)

    response = api.post("/teleconsultation", body([doctor(), patient()]), format="json")

    assert response.status_code == 504
    # Each of the two users' calls stops at the deadline (three attempts at most, the last one
    # cut short), not after all six the retry policy allows.
    assert simulator_http.call_count("create_user") <= 6
