"""The OpenAPI schema at /api/schema/ is valid and names every endpoint; the docs page loads."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from tests.api_helpers import CREATE_ENDPOINTS, LIST_ENDPOINTS


@pytest.fixture(scope="module")
def served_schema(django_db_setup: None, django_db_blocker: Any) -> dict:
    # Served once for the module (it takes a second and depends on no row), in a transaction
    # that is rolled back.
    with django_db_blocker.unblock(), transaction.atomic():
        r = APIClient().get("/api/schema/", {"format": "json"})
        transaction.set_rollback(True)
    assert r.status_code == 200, r.content
    return dict(r.json())


@pytest.fixture
def schema(db, served_schema: dict) -> dict:
    return copy.deepcopy(served_schema)  # each test its own, whatever the one before did


def test_the_schema_is_served_as_yaml_by_default(db):
    r = APIClient().get("/api/schema/")
    assert r.status_code == 200
    assert r.content.startswith(b"openapi: 3.")


def test_the_schema_passes_drf_spectacular_validation(schema):
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)  # raises on an invalid document


def test_the_schema_passes_openapi_spec_validator(schema):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(schema)


def test_generating_the_schema_raises_no_warning(db, tmp_path):
    # --fail-on-warn turns an unresolvable field or serializer into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi:")


@pytest.mark.parametrize("endpoint", LIST_ENDPOINTS)
def test_every_endpoint_in_the_issue_is_in_the_schema(schema, endpoint):
    path = f"/api/v1/{endpoint}/"
    assert "get" in schema["paths"][path]


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS)
def test_every_create_and_item_route_is_in_the_schema(schema, endpoint):
    assert "post" in schema["paths"][f"/api/v1/{endpoint}/"]
    assert {"get", "put", "patch", "delete"} <= set(schema["paths"][f"/api/v1/{endpoint}/{{id}}/"])


def test_the_token_endpoint_is_in_the_schema(schema):
    assert "post" in schema["paths"]["/api/v1/auth/token/"]


def test_both_token_and_session_auth_are_described(schema):
    schemes = schema["components"]["securitySchemes"]
    assert {"tokenAuth", "cookieAuth"} <= set(schemes)


@pytest.mark.parametrize("endpoint", CREATE_ENDPOINTS)
def test_every_create_documents_the_idempotency_key_header(schema, endpoint):
    params = schema["paths"][f"/api/v1/{endpoint}/"]["post"].get("parameters", [])
    assert {"in": "header", "name": "Idempotency-Key"}.items() <= next(
        (p for p in params if p.get("name") == "Idempotency-Key"), {}
    ).items()


def test_list_endpoints_document_pagination_and_filters(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/residents/"]["get"]["parameters"]}
    assert {"page", "page_size", "ordering", "search", "grid", "tag", "id_number"} <= params


def test_visits_due_documents_within_days(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/visits/due/"]["get"]["parameters"]}
    assert "within_days" in params


def test_the_interactive_docs_load_without_a_cdn(db):
    r = APIClient().get("/api/docs/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "swagger-ui" in html
    assert "/api/schema/" in html
    assert "cdn.jsdelivr.net" not in html
