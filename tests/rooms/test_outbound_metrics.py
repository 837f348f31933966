"""Every outbound call is in one metric family: a visit scheduled through the API on the CRUD
backend, with its participants looked up in the user directory, leaves samples of
`outbound_requests_total` and `outbound_request_duration_seconds` in `/-/metrics` for the three
services. The CRUD Service and Kaleyra are the simulators served over loopback (real clients,
real sockets); the directory is `responses`, asserting the one lookup sent."""

import pytest
import responses
from django.conf import settings as django_settings
from prometheus_client.parser import text_string_to_metric_families

from tests.rooms.conftest import START, iso, stored, use_mia_collections
from tests.rooms.test_directory_client import USERS_URL, auth0_user

pytestmark = [pytest.mark.django_db]

SERVICES = ("crud", "directory", "kaleyra")


@pytest.fixture
def crud_storage(settings, crud_simulator_http):
    """The CRUD backend on the simulator over HTTP, with the collections of a Mia project."""
    use_mia_collections(crud_simulator_http, settings)
    return crud_simulator_http


@pytest.fixture
def directory(settings, crud_storage, simulator_http):
    settings.AUTH_SERVICE = "http://auth0-client"
    settings.DEFAULT_CLIENT_TYPE = "teleconsultation"
    settings.ADDITIONAL_HEADERS_TO_PROXY = []
    with responses.RequestsMock() as mock:
        mock.add_passthru(crud_storage.base_url)
        mock.add_passthru(django_settings.BANDYER_BASE_URL)
        yield mock


def outbound_samples(client) -> dict[tuple[str, str, str], float]:
    """{(metric, service, operation[, outcome]): value} of the outbound family in /-/metrics."""
    response = client.get("/-/metrics")
    assert response.status_code == 200
    found = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name in (
                "outbound_requests_total",
                "outbound_request_duration_seconds_count",
            ):
                labels = sample.labels
                key = (sample.name, labels["service"], labels["operation"], labels.get("outcome"))
                found[key] = sample.value
    return found


def grown(before: dict, after: dict, name: str) -> dict[str, float]:
    """How much `name` grew per service between two scrapes."""
    growth = dict.fromkeys(SERVICES, 0.0)
    for key, value in after.items():
        if key[0] == name:
            growth[key[1]] = growth.get(key[1], 0.0) + value - before.get(key, 0.0)
    return growth


def test_crud_directory_and_kaleyra_calls_are_one_family_in_the_scrape(api, client, directory):
    directory.get(
        USERS_URL,
        json=[
            auth0_user("auth0|doc", groups=("doctor",)),
            auth0_user("auth0|pat", groups=("customer",)),
        ],
    )
    before = outbound_samples(client)

    response = api.as_user("scheduler", groups=("admin",)).post(
        "/teleconsultation",
        {
            "participants": ["auth0|doc", "auth0|pat"],
            "start_date": iso(START),
            "duration_in_seconds": 1800,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert stored(response.json()["roomId"]).participants_number == 2
    after = outbound_samples(client)
    lookup = ("outbound_requests_total", "directory", "find_users", "ok")
    assert after[lookup] - before.get(lookup, 0.0) == 1
    counted = grown(before, after, "outbound_requests_total")
    timed = grown(before, after, "outbound_request_duration_seconds_count")
    assert all(counted[service] >= 1 for service in SERVICES), counted
    assert all(timed[service] >= 1 for service in SERVICES), timed
    # The scrape itself counts CRUD documents (the backlog gauges); the visit is a `create`.
    create = ("outbound_requests_total", "crud", "create", "ok")
    assert after[create] - before.get(create, 0.0) >= 1
