"""Shared personas: a small district with two streets, so every role has an inside and an
outside. Tests ask for `world` and use its users as alice (in scope), bob (colleague with another
scope) and charlie (outsider)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests import factories as f


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (DATABASE_URL)"))
        if "broker" in item.keywords and eager:
            item.add_marker(pytest.mark.skip(reason="needs a Celery broker (CELERY_BROKER_URL)"))


@pytest.fixture
def world(db: None) -> SimpleNamespace:
    """Street 1 (communities 1 and 2) and street 2 (community 3), grids, workers, residents.

    grid1, grid2 ∈ community1 ∈ street1; grid3 ∈ community2 ∈ street1; grid4 ∈ community3 ∈ street2.
    """
    w = SimpleNamespace()
    w.street1 = f.StreetFactory(name="沙北街道", code="shabei")
    w.street2 = f.StreetFactory(name="万金镇", code="wanjin")
    w.community1 = f.CommunityFactory(street=w.street1, name="新庄赵村", code="xzz", kind="village")
    w.community2 = f.CommunityFactory(street=w.street1, name="泰山社区", code="taishan")
    w.community3 = f.CommunityFactory(street=w.street2, name="外村", code="wai", kind="village")
    w.grid1 = f.GridFactory(community=w.community1, code="G1", name="第一网格")
    w.grid2 = f.GridFactory(community=w.community1, code="G2", name="第二网格")
    w.grid3 = f.GridFactory(community=w.community2, code="G1", name="黄山小区网格")
    w.grid4 = f.GridFactory(community=w.community3, code="G1", name="外村网格")

    def worker(username: str, grid: object, community: object) -> object:
        user = f.UserFactory(username=username, groups=["grid_worker"])
        wk = f.GridWorkerFactory(user=user, community=community)
        f.GridAssignmentFactory(worker=wk, grid=grid, start_date=dt.date(2024, 1, 1))
        return wk

    w.worker1 = worker("worker", w.grid1, w.community1)
    w.worker2 = worker("worker2", w.grid2, w.community1)
    w.worker3 = worker("worker3", w.grid3, w.community2)
    w.worker4 = worker("worker4", w.grid4, w.community3)
    w.committee1 = f.committee_member(w.community1, "committee").user
    w.committee3 = f.committee_member(w.community3, "committee3").user
    w.admin1 = f.street_admin(w.street1, "streetadmin").user
    w.admin2 = f.street_admin(w.street2, "streetadmin2").user
    w.superuser = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    w.stranger = f.UserFactory(username="stranger")

    w.household1 = f.HouseholdFactory(grid=w.grid1, village=True, house_number="8")
    w.household2 = f.HouseholdFactory(
        grid=w.grid2, village=True, village_group="二组", house_number="3"
    )
    w.household3 = f.HouseholdFactory(grid=w.grid3)
    w.household4 = f.HouseholdFactory(grid=w.grid4, village=True, house_number="1")
    w.resident1 = f.ResidentFactory(household=w.household1, name="赵爱国")
    w.resident2 = f.ResidentFactory(household=w.household2, name="赵秀英")
    w.resident3 = f.ResidentFactory(household=w.household3, name="陈建国")
    w.resident4 = f.ResidentFactory(household=w.household4, name="李明")
    w.resident_user = f.UserFactory(username="resident", groups=["resident"])
    w.resident1.user = w.resident_user
    w.resident1.save(update_fields=["user"])
    w.partner_user = f.UserFactory(username="partner", groups=["partner"])
    w.partner = f.PartnerUnitFactory(name="市委办")
    w.partner.contacts.add(w.partner_user)
    w.partner.agreements.create(community=w.community2, signed_on=dt.date(2025, 3, 1))
    return w


@pytest.fixture
def client_for():
    """client_for(user) → an APIClient logged in as that user."""

    def make(user: object | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def staff_client():
    """staff_client(user, *codenames) → a Django Client logged in as the user (a GridWorker
    stands for its login), made staff (the personas are not) and given the model permissions
    named (e.g. "change_claim"), asking for English pages."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    def make(user: object, *codenames: str) -> Client:
        user = getattr(user, "user", user)
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        if codenames:
            user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def tasks_in_process(settings):
    """Celery tasks run in-process (eager), as in the embedded set-up, also where a real broker
    is configured (CI's PostgreSQL pass): for tests of what a task does, not of the broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield
    app.conf.task_always_eager = before
