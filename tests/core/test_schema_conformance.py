"""Issue 17: every answer is one the OpenAPI schema names, in the shape it gives.

Each test here is a cause schemathesis (`.ci/schemathesis`) found, reproduced with the DRF test
client: a server error, an answer with an undocumented status code, or a body that did not
match its schema.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests import factories as f
from tests.api_helpers import client, url
from tests.residents.needs_helpers import record

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def schema(django_db_setup: None, django_db_blocker: Any) -> dict[str, Any]:
    # Generated once for the module: it takes seconds and depends on no row.
    with django_db_blocker.unblock():
        r = APIClient().get("/api/schema/", {"format": "json"})
    assert r.status_code == 200
    return dict(r.json())


def documented(schema: dict[str, Any], path: str, method: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


# ---------------------------------------------------------------------------- server errors


def test_a_partner_unit_patch_with_an_agreement_missing_its_community_is_a_400(world, schema):
    # Was a 500 (KeyError): a PATCH skips the nested items' required fields.
    r = client(world.superuser).patch(
        url("partner-units", world.partner.pk),
        {"agreements": [{"signed_on": "2026-01-05"}]},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "community" in str(r.json()["agreements"])
    assert "400" in documented(schema, "/api/v1/partner-units/{id}/", "patch")
    assert world.partner.agreements.count() == 1  # the stored list is untouched


def test_a_partner_unit_patch_with_an_agreement_missing_its_date_is_a_400(world):
    r = client(world.superuser).patch(
        url("partner-units", world.partner.pk),
        {"agreements": [{"community": world.community2.pk}]},
        format="json",
    )
    assert r.status_code == 400, r.content
    assert "signed_on" in str(r.json()["agreements"])


def test_a_partner_unit_patch_with_whole_agreements_still_replaces_them(world):
    r = client(world.superuser).patch(
        url("partner-units", world.partner.pk),
        {"agreements": [{"community": world.community1.pk, "signed_on": "2026-01-05"}]},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert [a["community"] for a in r.json()["agreements"]] == [world.community1.pk]


# ---------------------------------------------------------------------------- response bodies


def test_a_patched_need_without_a_resident_keeps_resident_name_as_null(world, schema):
    # A PATCH dropped `resident_name` (a field with default=None is skipped in partial updates),
    # which the schema lists as required.
    need = record(world, grid=world.grid1)
    r = client(world.worker1).patch(url("needs", need.pk), {}, format="json")
    assert r.status_code == 200, r.content
    assert "resident_name" in r.json()
    assert r.json()["resident_name"] is None
    assert schema["components"]["schemas"]["Need"]["properties"]["resident_name"]["nullable"]


def test_a_patched_agenda_item_without_need_or_project_names_them_as_null(world):
    council = f.CouncilFactory(
        community=world.community1, held_on=dt.date(2099, 1, 10), status="planned"
    )
    item = f.AgendaItemFactory(council=council)
    r = client(world.superuser).patch(url("agenda-items", item.pk), {}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    for name in ("need_title", "need_status", "project_name", "responsible_name"):
        assert name in body
        assert body[name] is None


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Need", "resident_name"),
        ("AgendaItem", "need_title"),
        ("AgendaItem", "need_status"),
        ("AgendaItem", "project_name"),
        ("AgendaItem", "responsible_name"),
        ("Resource", "partner_unit_name"),
        ("Attendance", "claim_status"),
    ],
)
def test_a_name_read_through_an_optional_relation_is_nullable_in_the_schema(
    schema, component, field
):
    # The API answers null where the relation is empty; the schema said "string".
    assert schema["components"]["schemas"][component]["properties"][field]["nullable"] is True


# ---------------------------------------------------------------------------- status codes


def test_every_operation_documents_the_refusals_of_authentication_and_permission(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in operations(schema)
        if not {"401", "403"} <= set(op["responses"])
    ]
    assert missing == []


def test_every_operation_on_an_object_documents_not_found_and_bad_input(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in operations(schema)
        if "{" in path and not {"400", "404"} <= set(op["responses"])
    ]
    assert missing == []


def test_every_write_with_a_body_documents_bad_input_and_an_unsupported_content_type(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in operations(schema)
        if "requestBody" in op and not {"400", "415"} <= set(op["responses"])
    ]
    assert missing == []


def test_the_error_answers_point_at_one_error_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"]
    responses = schema["paths"]["/api/v1/streets/{id}/"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }


def test_a_missing_object_is_a_documented_404_with_a_detail(world, schema):
    r = client(world.superuser).get(url("streets", 999_999))
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}
    assert "404" in documented(schema, "/api/v1/streets/{id}/", "get")


def test_a_page_past_the_last_is_a_documented_404(world, schema):
    r = client(world.superuser).get(url("streets"), {"page": 99})
    assert r.status_code == 404
    assert "404" in documented(schema, "/api/v1/streets/", "get")


def test_an_unsigned_request_is_a_documented_401_with_a_detail(world, schema):
    r = APIClient().get(url("streets"))
    assert r.status_code == 401
    assert set(r.json()) == {"detail"}
    assert "401" in documented(schema, "/api/v1/streets/", "get")


def test_a_body_in_an_unread_content_type_is_a_documented_415(world, schema):
    r = client(world.superuser).patch(
        url("streets", world.street1.pk), "name=x", content_type="text/plain"
    )
    assert r.status_code == 415
    assert set(r.json()) == {"detail"}
    assert "415" in documented(schema, "/api/v1/streets/{id}/", "patch")


def test_a_refused_delete_is_a_documented_409(world, schema):
    # The street still has communities (a protected relation).
    r = client(world.superuser).delete(url("streets", world.street1.pk))
    assert r.status_code == 409, r.content
    assert "409" in documented(schema, "/api/v1/streets/{id}/", "delete")


def test_a_format_no_renderer_offers_is_a_documented_404(world, schema):
    # DRF's content negotiation answers `?format=` with no matching renderer by a 404.
    r = client(world.superuser).get(url("reports/workers"), {"format": "pdf"})
    assert r.status_code == 404
    assert set(r.json()) == {"detail"}
    assert "404" in documented(schema, "/api/v1/reports/workers/", "get")


@pytest.mark.parametrize("report", ["needs", "workers", "volunteer-hours"])
def test_a_report_is_documented_as_one_object_not_a_list(schema, report):
    # Was `type: array`: drf-spectacular takes every `list` action for a list.
    content = schema["paths"][f"/api/v1/reports/{report}/"]["get"]["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["$ref"].startswith("#/components/schemas/")


def test_the_errors_of_a_document_download_are_documented_as_json_only(schema):
    # They were listed in the workbook's and the page's content types too; ErrorsAsJsonMixin
    # answers every error as JSON.
    responses = schema["paths"]["/api/v1/periods/{code}/purchase-list/"]["get"]["responses"]
    assert len(responses["200"]["content"]) > 1
    for code in ("400", "401", "403", "404"):
        assert list(responses[code]["content"]) == ["application/json"]


def test_a_visit_time_before_1970_is_a_400_not_an_answer_in_local_mean_time(world):
    # Was a 200 whose visited_at read "0133-01-19T14:14:44+08:05:43": Asia/Shanghai's offset
    # before 1901 has seconds, which no RFC 3339 date-time has.
    visit = f.VisitFactory(worker=world.worker1, household=world.household1)
    r = client(world.worker1).patch(
        url("visits", visit.pk), {"visited_at": "0133-01-19T14:14:44"}, format="json"
    )
    assert r.status_code == 400, r.content
    assert "visited_at" in r.json()
    visit.refresh_from_db()
    assert visit.visited_at.year > 1970


def test_an_activity_starting_before_1970_is_a_400(world):
    team = f.VolunteerTeamFactory(community=world.community2)
    r = client(world.superuser).post(
        url("activities"),
        {
            "team": team.pk,
            "title": "义诊",
            "capacity": 5,
            "starts_at": "1899-05-01T09:00:00",
            "ends_at": "1899-05-01T11:00:00",
        },
        format="json",
    )
    assert r.status_code == 400, r.content
    assert {"starts_at", "ends_at"} <= set(r.json())
