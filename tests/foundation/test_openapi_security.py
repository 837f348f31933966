"""The OpenAPI document says who may call: Swagger UI's Authorize can set the gateway's user id,
groups and back-office headers, under the names this deployment reads."""

import pytest

pytestmark = pytest.mark.django_db

TELECONSULTATION_WRITES = [
    ("post", "/teleconsultation"),
    ("patch", "/teleconsultation/{roomId}"),
    ("delete", "/teleconsultation/{roomId}"),
    ("post", "/teleconsultation/{roomId}/participants/data"),
    ("delete", "/teleconsultation/{roomId}/uploads"),
]
USER = [{"gatewayUser": [], "gatewayGroups": []}, {"gatewayUser": []}]


def document(client) -> dict:
    return client.get("/documentation/json", HTTP_ACCEPT="application/json").json()


def operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def test_the_three_gateway_headers_are_security_schemes(client):
    schemes = document(client)["components"]["securitySchemes"]
    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        "gatewayUser": ("apiKey", "header", "miauserid"),
        "gatewayGroups": ("apiKey", "header", "miausergroups"),
        "gatewayBackOffice": ("apiKey", "header", "isbackoffice"),
    }


def test_the_header_names_are_the_ones_this_deployment_reads(client, settings):
    settings.USERID_HEADER_KEY = "x-user-id"
    settings.GROUPS_HEADER_KEY = "x-user-groups"
    settings.BACKOFFICE_HEADER_KEY = "x-backoffice"
    schemes = document(client)["components"]["securitySchemes"]
    assert [
        schemes[name]["name"] for name in ("gatewayUser", "gatewayGroups", "gatewayBackOffice")
    ] == [
        "x-user-id",
        "x-user-groups",
        "x-backoffice",
    ]


@pytest.mark.parametrize(("method", "path"), TELECONSULTATION_WRITES)
def test_a_write_takes_a_user_or_the_back_office_and_declares_401_and_403(client, method, path):
    operation = document(client)["paths"][path][method]
    assert operation["security"] == [*USER, {"gatewayBackOffice": []}]
    responses = operation["responses"]
    assert responses["401"]["content"]["application/json"]["examples"]["401"]["value"] == {
        "statusCode": 401,
        "error": "Unauthorized user",
        "message": "Unauthorized user",
    }
    forbidden = responses["403"]["content"]["application/json"]["examples"]["403"]["value"]
    assert forbidden["statusCode"] == 403 and forbidden["error"] == "Forbidden"


def test_every_other_identified_operation_takes_a_user_only(client):
    others = [
        (method, path, operation["security"])
        for method, path, operation in operations(document(client))
        if "security" in operation and (method, path) not in TELECONSULTATION_WRITES
    ]
    assert ("get", "/teleconsultation/{roomId}", USER) in others
    assert ("post", "/credentials", USER) in others
    assert all(security == USER for _, _, security in others)


@pytest.mark.parametrize(
    "path", ["/teleconsultation", "/teleconsultation/{roomId}/participants/data"]
)
def test_the_idempotent_posts_declare_their_key_and_the_replayed_header(client, path):
    operation = document(client)["paths"][path]["post"]
    key = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and not key.get("required", False)
    replayed = operation["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed["schema"] == {"type": "string", "enum": ["true"]}
    assert {"409", "422"} <= set(operation["responses"])
