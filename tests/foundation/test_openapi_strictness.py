"""The OpenAPI document is as strict as the server, so a schema-driven client (or fuzzer) that
follows it is never surprised: bounds, refused keys, every 4xx an operation can answer."""

import pytest

pytestmark = pytest.mark.django_db

BODY_STATUSES = {"400", "411", "413", "415"}
SIGNED_BY_KALEYRA = {"/webhooks/kaleyra", "/kaleyra/user-details"}
WRITES = [
    ("post", "/teleconsultation"),
    ("patch", "/teleconsultation/{roomId}"),
    ("delete", "/teleconsultation/{roomId}"),
    ("post", "/teleconsultation/{roomId}/participants/data"),
    ("delete", "/teleconsultation/{roomId}/uploads"),
]


def document(client) -> dict:
    return client.get("/documentation/json", HTTP_ACCEPT="application/json").json()


def component(openapi: dict, name: str) -> dict:
    return openapi["components"]["schemas"][name]


def request_schema(openapi: dict, method: str, path: str) -> dict:
    content = openapi["paths"][path][method]["requestBody"]["content"]
    reference = next(iter(content.values()))["schema"]["$ref"]
    return component(openapi, reference.split("/")[-1])


def test_every_operation_with_a_body_declares_what_the_layers_before_it_answer(client):
    openapi = document(client)
    operations = [
        (method, path, operation)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert len(operations) == 8
    for method, path, operation in operations:
        # Kaleyra's two endpoints read the raw body whatever the media type (the signature
        # covers it).
        expected = BODY_STATUSES - {"415"} if path in SIGNED_BY_KALEYRA else BODY_STATUSES
        missing = expected - set(operation["responses"])
        assert not missing, f"{method.upper()} {path} does not declare {sorted(missing)}"


@pytest.mark.parametrize("method, path", WRITES)
def test_teleconsultation_writes_declare_401_and_403(client, method, path):
    responses = document(client)["paths"][path][method]["responses"]
    for status in ("401", "403"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }


@pytest.mark.parametrize(
    "method, path",
    [
        ("post", "/teleconsultation"),
        ("patch", "/teleconsultation/{roomId}"),
        ("post", "/teleconsultation/{roomId}/participants/data"),
        ("post", "/credentials"),
        ("patch", "/settings/update"),
    ],
)
def test_bodies_refuse_unknown_keys_in_the_document_too(client, method, path):
    openapi = document(client)
    content = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]
    schema = content["schema"]
    if "$ref" in schema:
        schema = component(openapi, schema["$ref"].split("/")[-1])
    assert schema["additionalProperties"] is False


def test_participants_and_groups_carry_their_bounds(client):
    openapi = document(client)
    participants = component(openapi, "ParticipantsObjectRequest")
    assert participants["additionalProperties"] is False
    assert participants["properties"]["number"] == {"type": "integer", "maximum": 25, "minimum": 2}
    assert participants["properties"]["data"]["maxItems"] == 25
    entry = component(openapi, "ParticipantDataRequest")
    groups = entry["properties"]["groups"]
    assert (groups["minItems"], groups["maxItems"]) == (1, 50)
    assert groups["items"]["minLength"] == 1
    for text in (entry["properties"]["userExternalId"], entry["properties"]["fullName"]):
        assert text["pattern"] == "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
    duration = component(openapi, "TeleconsultationCreateRequest")["properties"][
        "duration_in_seconds"
    ]
    assert (duration["minimum"], duration["maximum"]) == (300, 86400)


def test_the_id_array_form_of_participants_is_documented_only_with_auth_service(client, settings):
    settings.AUTH_SERVICE = ""
    without = request_schema(document(client), "post", "/teleconsultation")
    assert "oneOf" not in str(without["properties"]["participants"])
    settings.AUTH_SERVICE = "auth0"
    participants = request_schema(document(client), "post", "/teleconsultation")["properties"][
        "participants"
    ]
    forms = participants.get("oneOf") or participants["allOf"][0]["oneOf"]
    assert forms[0] == {"$ref": "#/components/schemas/ParticipantsObjectRequest"}
    assert forms[1]["type"] == "array" and forms[1]["items"]["maxLength"] == 255


def test_the_background_image_is_declared_jpeg(client):
    body = document(client)["paths"]["/settings/background-image"]["post"]["requestBody"]
    encoding = body["content"]["multipart/form-data"]["encoding"]
    assert encoding == {"virtual_background": {"contentType": "image/jpeg"}}
