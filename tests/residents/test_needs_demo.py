"""The demo needs (demo.parts.needs.seed_needs, run by demo.seed.seed_demo)."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from demo import seed as demo
from demo.parts.needs import NEEDS, seed_needs
from points.models import Claim
from residents.models import Need, NeedEvent, Rating, Rectification
from tests import demo_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> demo.SeedReport:
    """seed_demo()'s data: built once per test process, copied in after that."""
    return demo_snapshot.seed_demo()


def client_for(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def need_titles(username: str) -> set[str]:
    client, url, titles = client_for(username), "/api/v1/needs/", set()
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.content
        titles |= {row["title"] for row in r.json()["results"]}
        url = r.json()["next"]
    return titles


def test_the_demo_has_its_needs_and_a_second_run_creates_nothing(seeded):
    assert seeded.created["residents.Need"] == len(NEEDS) >= 40
    assert seeded.created["residents.NeedEvent"] == NeedEvent.objects.count()
    counts = {m._meta.label: m._default_manager.count() for m in apps.get_models()}
    again = demo.seed_demo()
    assert not again.created_anything, again.created
    assert not any(seed_needs(today=timezone.localdate()).values())
    assert {m._meta.label: m._default_manager.count() for m in apps.get_models()} == counts


def test_every_status_and_both_communities(seeded):
    assert set(Need.objects.values_list("status", flat=True)) == set(Need.Status.values)
    for code in ("taishan", "xzz"):
        assert Need.objects.filter(grid__community__code=code).count() >= 15
    assert Need.objects.filter(source=Need.Source.VISIT, visit__isnull=False).count() >= 5
    assert Need.objects.filter(for_council=True, grid__community__code="xzz").count() >= 3
    assert not Need.objects.filter(for_council=True, grid__community__code="taishan").exists()
    # Every timeline is the services' own: it starts with "recorded", by whoever recorded it.
    for need in Need.objects.all():
        first = need.events.order_by("at", "id").first()
        assert first.kind == NeedEvent.Kind.RECORDED and first.actor_id == need.reported_by_id
    assert max(n.events.count() for n in Need.objects.all()) >= 5


def test_the_hollow_willow_was_reported_in_the_wechat_group_and_rated_very_satisfied(seeded):
    willow = Need.objects.get(title__startswith="学校旁空心柳树")
    assert willow.source == Need.Source.WECHAT
    assert willow.reported_by.username == "taishan.qixiangping"
    assert willow.status == Need.Status.CLOSED
    assert willow.rating.level == Rating.Level.VERY_SATISFIED
    assert willow.events.count() >= 5


def test_loop_details(seeded):
    lamp = Need.objects.get(title="泰山小区6号楼前路灯不亮")
    assert lamp.status == Need.Status.ASSIGNED and "城管所" in lamp.assigned_department
    assert lamp.due_on >= timezone.localdate()
    medicine = Need.objects.get(title__contains="代买药")
    assert medicine.status == Need.Status.IN_PROGRESS and medicine.assigned_worker is not None
    dispute = Need.objects.get(title="五组两户宅前排水沟纠纷")
    assert dispute.status == Need.Status.RESOLVED
    assert dispute.claim.status == Claim.Status.SUBMITTED
    assert dispute.claim.rule.code == "R05" and dispute.claim.rule.community.code == "xzz"
    statuses = set(Rectification.objects.values_list("status", flat=True))
    assert {Rectification.Status.OPEN, Rectification.Status.ACCEPTED} <= statuses
    assert Rating.objects.filter(level__lte=Rating.Level.DISSATISFIED).count() >= 2
    rejected = Need.objects.filter(status=Need.Status.REJECTED)
    assert rejected.exists() and not rejected.filter(rejection_reason="").exists()
    own = Need.objects.filter(source=Need.Source.RESIDENT, reported_by__username="resident")
    assert own.exists()
    assert set(own.values_list("title", flat=True)) <= need_titles("resident")


def test_the_overdue_needs_are_escalated(seeded):
    overdue = Need.objects.overdue()
    assert overdue.exists()
    for need in overdue:
        assert need.escalation >= Need.Escalation.COMMUNITY
        assert need.events.filter(kind=NeedEvent.Kind.ESCALATED).exists()
    assert overdue.filter(escalation=Need.Escalation.STREET).exists()


def test_partners_see_what_is_offered_or_assigned_to_them(seeded):
    wheelchair = Need.objects.get(title="微心愿: 一台轮椅")
    assert wheelchair.status == Need.Status.IN_PROGRESS
    assert wheelchair.assigned_partner.name == "市委办"
    assert wheelchair.events.filter(kind=NeedEvent.Kind.CLAIMED, actor__username="partner")
    bag = Need.objects.get(title="微心愿: 新书包和文具")
    assert bag.status == Need.Status.ACCEPTED and bag.assigned_partner is None
    assert list(bag.offered_to.values_list("name", flat=True)) == ["市人大"]
    seen = need_titles("partner")  # the contact of 市委办
    assert wheelchair.title in seen
    assert bag.title not in seen


def test_the_committee_sees_the_village_needs(seeded):
    village = set(Need.objects.filter(grid__community__code="xzz").values_list("title", flat=True))
    assert need_titles("committee") == village
    g1 = set(
        Need.objects.filter(grid__code="G1", grid__community__code="xzz").values_list(
            "title", flat=True
        )
    )
    assert need_titles("worker") >= g1
