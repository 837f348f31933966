"""The API documentation: Swagger UI with local assets, an OpenAPI document that resolves."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_swagger_ui_is_served_with_local_assets(client):
    response = client.get("/documentation/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    assert "cdn." not in page and "unpkg" not in page


@pytest.mark.django_db
def test_the_openapi_document_is_served_as_json(client):
    response = client.get("/documentation/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/teleconsultation/{roomId}" in document["paths"]


def test_the_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )


@pytest.mark.django_db
def test_every_reference_in_the_openapi_document_resolves(client):
    document = client.get("/documentation/json", HTTP_ACCEPT="application/json").json()

    def references(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from references(value)
        elif isinstance(node, list):
            for value in node:
                yield from references(value)

    components = document["components"]["schemas"]
    missing = {ref for ref in references(document) if ref.split("/")[-1] not in components}
    assert missing == set()
