"""The OpenAPI document at /documentation/json: always JSON, the contract's names, limits."""

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.django_db

URL = "/documentation/json"
ROOM_PATHS = (
    "/teleconsultation/{roomId}",
    "/teleconsultation/{roomId}/participants/data",
    "/teleconsultation/{roomId}/uploads",
)


@pytest.fixture
def document(client):
    return client.get(URL).json()


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/yaml", "application/vnd.oai.openapi", "text/html", "image/png"],
)
def test_the_document_is_json_whatever_the_accept_header(client, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get(URL, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == "application/json"
    assert response.json()["openapi"].startswith("3.")


def test_a_format_parameter_does_not_turn_it_into_yaml(client):
    response = client.get(URL, {"format": "yaml"})
    assert response["Content-Type"].split(";")[0] == "application/json"
    assert response.json()["openapi"].startswith("3.")


def test_the_path_parameter_is_named_room_id_as_in_the_contract(document):
    for path in ROOM_PATHS:
        assert path in document["paths"], sorted(document["paths"])
        for operation in document["paths"][path].values():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert names == ["roomId"]
    assert not any("room_id" in path for path in document["paths"])


def request_schema(document, path, method):
    content = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    reference = content["schema"]["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][reference]


def test_duration_in_seconds_declares_its_bounds(document):
    for path, method in (("/teleconsultation", "post"), ("/teleconsultation/{roomId}", "patch")):
        duration = request_schema(document, path, method)["properties"]["duration_in_seconds"]
        assert (duration["minimum"], duration["maximum"]) == (300, 86400)


def test_a_participants_groups_and_full_name_say_when_they_are_required(document):
    path = "/teleconsultation/{roomId}/participants/data"
    fields = request_schema(document, path, "post")["properties"]
    for name in ("groups", "fullName"):
        assert fields[name]["description"] == "Required without AUTH_SERVICE; refused with it"


def dates_in(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from dates_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from dates_in(value)
    elif isinstance(node, str):
        try:
            yield datetime.fromisoformat(node.replace("Z", "+00:00"))
        except ValueError:
            return


def test_the_request_examples_are_in_the_future_whenever_they_are_read(document):
    """An example with a date that has passed is an example the API refuses: the dates are
    computed from the day the document is made (this test also runs a year and five ahead)."""
    post = document["paths"]["/teleconsultation"]["post"]["requestBody"]["content"]
    examples = post["application/json"]["examples"]
    dates = [moment for example in examples.values() for moment in dates_in(example["value"])]
    assert dates
    assert datetime.now(UTC) < min(dates) < datetime.now(UTC) + timedelta(days=2 * 365)


def test_the_access_parameters_document_language_as_free_with_a_fallback(document):
    parameters = document["paths"]["/teleconsultation/{roomId}"]["get"]["parameters"]
    language = next(p for p in parameters if p["name"] == "language")
    assert "enum" not in language["schema"]
    assert "company default" in language["description"]
