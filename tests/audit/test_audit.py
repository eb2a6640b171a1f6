"""The audit log of personal data: full ID numbers seen, lists with names exported, residents'
records changed — who, when, what, from which IP; append-only; read in the admin by the
street admin of the street; exported for an inspector; pruned by age."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit import services
from audit.models import AuditEvent, AuditLogIsAppendOnly
from core.validators import make_id_number
from residents.models import Resident
from residents.resources import ResidentResource
from tests import factories as f

pytestmark = pytest.mark.django_db


def grant_full_id(user: Any) -> Any:
    user.user_permissions.add(Permission.objects.get(codename="view_full_id_number"))
    return type(user).objects.get(pk=user.pk)  # a fresh user: permissions are cached


@pytest.fixture
def officer(world):
    """A committee member of community 1 (street 1) who may see full ID numbers."""
    return grant_full_id(f.committee_member(world.community1, "officer").user)


def events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


# ---------------------------------------------------------------------------- full ID numbers


def test_a_full_id_number_seen_through_the_api_is_recorded_with_who_and_ip(
    world, officer, client_for
):
    response = client_for(officer).get(
        f"/api/v1/residents/{world.resident1.pk}/", REMOTE_ADDR="10.1.2.3"
    )
    assert response.status_code == 200
    assert response.json()["id_number"] == world.resident1.id_number
    [row] = events(action="view_id")
    assert (row.user_id, row.username, row.ip) == (officer.pk, "officer", "10.1.2.3")
    assert (row.object_type, row.object_id) == ("residents.resident", str(world.resident1.pk))
    assert row.street_id == world.street1.pk
    assert "赵爱国" in row.description
    assert row.path == f"/api/v1/residents/{world.resident1.pk}/"


def test_a_masked_id_number_is_not_recorded(world, client_for):
    response = client_for(world.committee1).get(f"/api/v1/residents/{world.resident1.pk}/")
    assert response.status_code == 200
    assert response.json()["id_number"] != world.resident1.id_number
    assert not events(action="view_id")


def test_a_list_records_each_resident_shown_in_full(world, officer, client_for):
    response = client_for(officer).get("/api/v1/residents/")
    assert response.status_code == 200
    shown = {str(r["id"]) for r in response.json()["results"]}
    assert shown and {e.object_id for e in events(action="view_id")} == shown


def test_the_admin_form_and_list_record_full_id_numbers(world, officer, staff_client):
    client = staff_client(officer, "view_resident", "change_resident")
    page = client.get(reverse("admin:residents_resident_change", args=[world.resident1.pk]))
    assert world.resident1.id_number in page.content.decode()
    assert [e.object_id for e in events(action="view_id")] == [str(world.resident1.pk)]
    client.get(reverse("admin:residents_resident_changelist"))
    assert len(events(action="view_id")) > 1


def test_a_refused_request_records_nothing(world, officer, client_for):
    response = client_for(officer).get(f"/api/v1/residents/{world.resident3.pk}/")
    assert response.status_code == 404  # community 2 is not the officer's
    assert not events()


# ---------------------------------------------------------------------------- exports


def test_an_export_of_residents_is_recorded_once_with_its_row_count(world, officer, staff_client):
    fields = {f"residentresource_{name}": "on" for name in ResidentResource._meta.fields}
    response = staff_client(officer, "view_resident").post(
        reverse("admin:residents_resident_export"),
        {"format": "1", "resource": "0", **fields},
        REMOTE_ADDR="192.168.0.9",
    )
    assert response.status_code == 200
    [row] = events(action="export")
    assert row.object_type == "residents.resident" and row.ip == "192.168.0.9"
    assert "2" in row.description  # community 1's two residents
    assert row.username == "officer"


def test_a_printed_distribution_list_is_recorded(world, client_for):
    from points.services import ledger

    period = ledger.current_period()
    response = client_for(world.committee1).get(
        f"/api/v1/periods/{period.code}/distribution-list/",
        {"grid": world.grid1.pk, "format": "html"},
    )
    assert response.status_code == 200
    [row] = events(action="export")
    assert (row.object_type, row.object_id) == ("grids.grid", str(world.grid1.pk))
    assert row.street_id == world.street1.pk and row.username == "committee"


def test_a_refused_list_is_not_recorded(world, client_for):
    from points.services import ledger

    period = ledger.current_period()
    response = client_for(world.committee1).get(
        f"/api/v1/periods/{period.code}/distribution-list/", {"grid": world.grid4.pk}
    )
    assert response.status_code == 404
    assert not events()


# ---------------------------------------------------------------------------- changes


def test_changes_of_a_resident_through_the_api_are_recorded_without_values(world, client_for):
    client = client_for(world.admin1)
    number = make_id_number("411102", dt.date(1980, 5, 6), 1)
    created = client.post(
        "/api/v1/residents/",
        {"household": world.household1.pk, "name": "赵新", "id_number": number},
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    changed = client.patch(f"/api/v1/residents/{pk}/", {"phone": "13800000000"}, format="json")
    assert changed.status_code == 200
    deleted = client.delete(f"/api/v1/residents/{pk}/")
    assert deleted.status_code == 204
    rows = events(object_type="residents.resident")
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert {r.object_id for r in rows} == {str(pk)}
    assert all(r.username == "streetadmin" and r.street_id == world.street1.pk for r in rows)
    assert "13800000000" not in rows[1].description and number not in rows[0].description
    assert "phone" in rows[1].description or "电话" in rows[1].description


def test_a_change_in_the_admin_is_recorded(world, staff_client):
    client = staff_client(world.admin1, "view_resident", "change_resident")
    url = reverse("admin:residents_resident_change", args=[world.resident1.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "tags"}
    data.update(name="赵爱民", household=world.household1.pk, id_number=world.resident1.id_number)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [row] = events(action="update")
    assert row.object_id == str(world.resident1.pk) and "赵爱民" in row.description


def test_a_failed_change_leaves_no_audit_row(world, client_for):
    response = client_for(world.admin1).patch(
        f"/api/v1/residents/{world.resident1.pk}/", {"id_number": "123"}, format="json"
    )
    assert response.status_code == 400
    assert not events()


def test_changes_outside_a_request_are_not_recorded(world):
    Resident.objects.filter(pk=world.resident1.pk).first().save()
    assert not events()


# ---------------------------------------------------------------------------- append-only


def test_the_audit_log_refuses_updates_and_deletes(world):
    row = services.record(action="export", object_type="x", description="d")
    row.description = "changed"
    with pytest.raises(AuditLogIsAppendOnly):
        row.save()
    with pytest.raises(AuditLogIsAppendOnly):
        row.delete()
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=row.pk).update(description="x")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=row.pk).description == "d"


@pytest.mark.postgres
def test_postgresql_refuses_raw_updates_and_deletes_of_the_audit_log(world):
    row = services.record(action="export", object_type="x", description="d")
    for sql in ("UPDATE audit_auditevent SET description = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as c:
            c.execute(sql)
    assert AuditEvent.objects.get(pk=row.pk).description == "d"


# ---------------------------------------------------------------------------- retention


def test_pruning_deletes_only_rows_older_than_the_retention(world, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    now = timezone.now()
    old = AuditEvent.objects.bulk_create(
        [AuditEvent(action="export", object_type="x", at=now - dt.timedelta(days=31))]
    )
    recent = services.record(action="export", object_type="x")
    call_command("prune_audit_log")  # a dry run
    assert AuditEvent.objects.count() == 2
    assert services.prune_audit_log() == 1
    assert list(AuditEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert old[0].pk != recent.pk


# ---------------------------------------------------------------------------- the admin


def test_the_street_admin_reads_only_their_streets_log_and_cannot_change_it(world, staff_client):
    mine = services.record(
        action="export", object_type="x", description="mine", street_id=world.street1.pk
    )
    theirs = services.record(
        action="export", object_type="x", description="theirs", street_id=world.street2.pk
    )
    client = staff_client(world.admin1)
    page = client.get(reverse("admin:audit_auditevent_changelist"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "mine" in text and "theirs" not in text
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[mine.pk])).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_change", args=[theirs.pk])).status_code in (
        302,
        404,
    )
    filtered = client.get(
        reverse("admin:audit_auditevent_changelist"), {"action__exact": "export", "q": "mine"}
    )
    assert "mine" in filtered.content.decode()


def test_the_log_exports_as_csv_for_an_inspector_and_the_export_is_logged(world, staff_client):
    row = services.record(
        action="view_id",
        object_type="residents.resident",
        object_id=7,
        description="赵爱国",
        street_id=world.street1.pk,
    )
    client = staff_client(world.admin1)
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "export_csv", "_selected_action": [row.pk]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert "赵爱国" in text and "residents.resident" in text
    assert events(object_type="audit.auditevent", action="export")


def test_nobody_but_the_street_admin_role_reads_the_log(world, staff_client):
    response = staff_client(world.committee1).get(reverse("admin:audit_auditevent_changelist"))
    assert response.status_code == 403
