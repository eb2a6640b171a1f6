"""The needs loop (design §5) through residents.services: record, accept, assign with a due
date, start, resolve (with a points claim), rate, rectify; reject; escalate; micro-wishes
offered to partner units and claimed; the daily jobs with the clock moved.

Over 600 lines on purpose: one test module per API or service layer, long by nature (many
short, independent tests).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone, translation
from rest_framework.exceptions import PermissionDenied, ValidationError

from points.models import Claim, Entry
from points.services import claims as claims_services
from residents.models import Need, NeedEvent, Rating, Rectification
from residents.services import bulk as bulk_services
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services
from residents.services import visits as visits_services
from tests import factories as f
from tests.api_helpers import points_rules
from tests.residents.needs_helpers import PATH, due, need_in

pytestmark = pytest.mark.django_db

ALL_STATUSES = [*PATH, "rejected"]


def kinds(need: Need) -> list[str]:
    return list(need.events.order_by("at", "id").values_list("kind", flat=True))


def message(exc: pytest.ExceptionInfo) -> str:
    detail = exc.value.detail
    return " ".join(str(m) for messages in detail.values() for m in messages)


# ---------------------------------------------------------------------------- the whole loop


def test_a_need_heard_on_a_visit_goes_round_the_loop_and_earns_points(world):
    rules = points_rules(world)
    visit = visits_services.record_visit(
        user=world.worker1.user,
        household=world.household1,
        notes="入户走访",
        needs=[
            {"title": "门口路灯坏了", "category": "infrastructure", "resident": world.resident1},
        ],
    )
    need = visit.needs.get()
    assert (need.source, need.grid, need.household, need.status) == (
        "visit",
        world.grid1,
        world.household1,
        "new",
    )

    needs_services.accept_need(user=world.committee1, need=need)
    needs_services.assign_need(
        user=world.committee1, need=need, worker=world.worker1, due_on=due(3)
    )
    needs_services.start_need(user=world.worker1.user, need=need)
    need = needs_services.resolve_need(
        user=world.worker1.user,
        need=need,
        resolution="换了灯泡",
        claim_resident=world.resident1,  # who reported the hazard: +2 (报告安全隐患)
        claim_rule=rules["hazard"],
    )
    assert need.status == "resolved" and need.resolved_at is not None
    claim = need.claim
    assert (claim.resident, claim.rule, claim.points, claim.status) == (
        world.resident1,
        rules["hazard"],
        2,
        Claim.Status.SUBMITTED,
    )
    # The committee approves it like any claim, and the resident's balance moves.
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    assert Entry.objects.get(source_type="claim", source_id=claim.pk).amount == 2

    need = ratings_services.rate_need(
        user=world.resident_user, need=need, level=Rating.Level.SATISFIED
    )
    assert need.status == "closed" and need.closed_at is not None
    assert kinds(need) == [
        "recorded",
        "accepted",
        "assigned",
        "started",
        "resolved",
        "rated",
        "closed",
    ]
    events = list(need.events.order_by("at", "id"))
    assert [e.actor for e in events[:5]] == [
        world.worker1.user,
        world.committee1,
        world.committee1,
        world.worker1.user,
        world.worker1.user,
    ]
    assert events[2].data == {
        "worker": world.worker1.pk,
        "department": "",
        "partner_unit": None,
        "due_on": due(3).isoformat(),
    }
    assert events[4].data == {"claim": claim.pk}
    assert [(e.from_status, e.to_status) for e in events[1:5]] == [
        ("new", "accepted"),
        ("accepted", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
    ]


def test_a_need_on_a_visit_that_fails_leaves_no_visit_behind(world):
    with pytest.raises(ValidationError) as exc:
        visits_services.record_visit(
            user=world.worker1.user,
            household=world.household1,
            needs=[
                {"title": "好的", "category": "other"},
                {"title": "别家的人", "category": "other", "resident": world.resident2},
            ],
        )
    assert list(exc.value.detail["needs"]) == [1]
    assert "resident" in exc.value.detail["needs"][1]
    assert not world.household1.visits.exists()
    assert not Need.objects.exists()


def test_a_resolution_with_a_claim_for_someone_outside_the_area_resolves_nothing(world):
    rules = points_rules(world)
    need = need_in(world, "in_progress")
    with pytest.raises(PermissionDenied):
        needs_services.resolve_need(
            user=world.worker1.user,
            need=need,
            resolution="修好了",
            claim_resident=world.resident3,
            claim_rule=rules["hazard"],
        )
    need.refresh_from_db()
    assert need.status == "in_progress" and not Claim.objects.exists()


def test_a_claim_needs_both_resident_and_rule(world):
    need = need_in(world, "in_progress")
    with pytest.raises(ValidationError) as exc:
        needs_services.resolve_need(
            user=world.worker1.user, need=need, resolution="好了", claim_resident=world.resident1
        )
    assert "claim" in exc.value.detail


# ---------------------------------------------------------------------------- illegal steps

STEP_CALLS = {
    "accept": lambda w, n: needs_services.accept_need(user=w.committee1, need=n),
    "assign": lambda w, n: needs_services.assign_need(
        user=w.committee1, need=n, department="城管", due_on=due()
    ),
    "offer": lambda w, n: needs_services.offer_need(
        user=w.committee1, need=n, partner_units=[w.partner], due_on=due()
    ),
    "start": lambda w, n: needs_services.start_need(user=w.worker1.user, need=n),
    "resolve": lambda w, n: needs_services.resolve_need(
        user=w.worker1.user, need=n, resolution="好"
    ),
    "reject": lambda w, n: needs_services.reject_need(user=w.committee1, need=n, reason="不办"),
    "escalate": lambda w, n: needs_services.escalate_need(user=w.committee1, need=n),
    "rate": lambda w, n: ratings_services.rate_need(user=w.resident_user, need=n, level=4),
}
ILLEGAL = [
    (step, status)
    for step in STEP_CALLS
    for status in ALL_STATUSES
    if status not in needs_services.STEPS[step].allowed_from
]


@pytest.mark.parametrize(("step", "status"), ILLEGAL, ids=[f"{s}-from-{t}" for s, t in ILLEGAL])
def test_every_illegal_step_is_refused_naming_the_statuses_that_allow_it(world, step, status):
    need = need_in(world, status, category="micro_wish")
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            STEP_CALLS[step](world, need)
        text = message(exc)
        allowed = ", ".join(
            str(Need.Status(s).label) for s in needs_services.STEPS[step].allowed_from
        )
        label = str(Need.Status(status).label)
    assert text.startswith(f"This need is {label}: it cannot be ")
    assert text.endswith(f"Allowed only from: {allowed}.")
    assert list(exc.value.detail) == ["status"]
    need.refresh_from_db()
    assert need.status == status


def test_a_rejection_needs_an_explanation_to_the_resident(world):
    need = need_in(world, "accepted")
    with pytest.raises(ValidationError) as exc:
        needs_services.reject_need(user=world.committee1, need=need, reason="  ")
    assert "reason" in exc.value.detail
    need = needs_services.reject_need(
        user=world.committee1, need=need, reason="属于物业职责，已告知"
    )
    assert (need.status, need.rejection_reason) == ("rejected", "属于物业职责，已告知")
    assert need.events.get(kind="rejected").note == "属于物业职责，已告知"


def test_a_rated_need_cannot_be_rated_again(world):
    need = need_in(world, "resolved")
    ratings_services.rate_need(user=world.resident_user, need=need, level=1)
    with pytest.raises(ValidationError) as exc:
        ratings_services.rate_need(user=world.resident_user, need=need, level=5)
    assert "level" in exc.value.detail


# ---------------------------------------------------------------------------- who may do what


def test_a_worker_of_another_grid_cannot_touch_the_need(world):
    need = need_in(world, "new")
    with pytest.raises(PermissionDenied):
        needs_services.accept_need(user=world.worker2.user, need=need)
    with pytest.raises(PermissionDenied):
        needs_services.accept_need(user=world.committee3, need=need)


def test_the_worker_it_is_assigned_to_works_on_it_from_another_grid(world):
    need = need_in(world, "accepted")
    needs_services.assign_need(user=world.committee1, need=need, worker=world.worker2, due_on=due())
    assert Need.objects.for_user(world.worker2.user).filter(pk=need.pk).exists()
    needs_services.start_need(user=world.worker2.user, need=need)
    needs_services.resolve_need(user=world.worker2.user, need=need, resolution="处理完毕")


def test_a_need_is_assigned_to_one_worker_department_or_unit_of_its_community(world):
    need = need_in(world, "accepted")
    for kwargs, field in [
        ({}, "worker"),
        ({"worker": world.worker1, "department": "城管"}, "worker"),
        ({"worker": world.worker3}, "worker"),
        ({"partner_unit": world.partner}, "partner_unit"),  # its agreement is with community 2
    ]:
        with pytest.raises(ValidationError) as exc:
            needs_services.assign_need(user=world.committee1, need=need, due_on=due(), **kwargs)
        assert field in exc.value.detail
    with pytest.raises(ValidationError) as exc:
        needs_services.assign_need(
            user=world.committee1, need=need, department="城管", due_on=due(-1)
        )
    assert "due_on" in exc.value.detail


def test_reassigning_hands_the_need_on_and_clears_the_other_assignee(world):
    need = need_in(world, "in_progress")
    need = needs_services.assign_need(
        user=world.committee1, need=need, department="城管局", due_on=due(9)
    )
    assert (need.status, need.assigned_worker, need.assigned_department, need.due_on) == (
        "assigned",
        None,
        "城管局",
        due(9),
    )


def test_only_the_resident_the_need_is_about_rates_it(world):
    need = need_in(world, "resolved")
    other = f.UserFactory(username="resident2", groups=["resident"])
    world.resident2.user = other
    world.resident2.save(update_fields=["user"])
    for user in (other, world.worker1.user, world.committee1):
        with pytest.raises(PermissionDenied):
            ratings_services.rate_need(user=user, need=need, level=5)


def test_a_household_need_is_rated_by_a_resident_of_the_household(world):
    need = need_in(world, "resolved", household=world.household1)
    assert need.resident is None
    assert (
        ratings_services.rate_need(user=world.resident_user, need=need, level=3).status == "closed"
    )


def test_a_resident_reports_a_need_for_themselves_whatever_the_request_says(world):
    need = needs_services.record_need(
        user=world.resident_user,
        title="楼道灯坏了",
        category="infrastructure",
        source="hotline",
        grid=world.grid4,
        resident=world.resident4,
        for_council=True,
    )
    assert (need.grid, need.household, need.resident, need.source, need.for_council) == (
        world.grid1,
        world.household1,
        world.resident1,
        "resident",
        False,
    )


def test_a_partner_contact_or_a_stranger_records_no_need(world):
    for user in (world.partner_user, world.stranger):
        with pytest.raises(PermissionDenied):
            needs_services.record_need(user=user, title="x", category="other", grid=world.grid3)


def test_a_worker_records_needs_only_in_their_grids(world):
    with pytest.raises(PermissionDenied):
        needs_services.record_need(
            user=world.worker1.user, title="x", category="other", source="patrol", grid=world.grid2
        )


def test_the_grid_comes_from_the_household_and_must_agree_with_it(world):
    with pytest.raises(ValidationError) as exc:
        needs_services.record_need(
            user=world.committee1,
            title="x",
            category="other",
            source="wechat",
            grid=world.grid2,
            household=world.household1,
        )
    assert "household" in exc.value.detail
    with pytest.raises(ValidationError) as exc:
        needs_services.record_need(
            user=world.committee1, title="x", category="other", source="wechat"
        )
    assert "grid" in exc.value.detail


# ---------------------------------------------------------------------------- micro-wishes


def test_a_micro_wish_is_offered_to_partner_units_and_claimed_by_one(world):
    other_user = f.UserFactory(username="partner2", groups=["partner"])
    other = f.PartnerUnitFactory(name="区人社局")
    other.contacts.add(other_user)
    other.agreements.create(community=world.community2, signed_on=dt.date(2025, 1, 1))
    wish = needs_services.record_need(
        user=world.worker3.user,
        title="想要一副老花镜",
        category="micro_wish",
        source="visit",
        resident=world.resident3,
    )
    needs_services.accept_need(user=world.worker3.user, need=wish)
    wish = needs_services.offer_need(
        user=f.committee_member(world.community2, "committee2").user,
        need=wish,
        partner_units=[world.partner, other],
        due_on=due(14),
    )
    assert wish.status == "accepted" and wish.due_on == due(14)
    for user in (world.partner_user, other_user):
        assert Need.objects.for_user(user).filter(pk=wish.pk).exists()

    wish = needs_services.claim_need(user=world.partner_user, need=wish)
    assert (wish.status, wish.assigned_partner, wish.due_on) == ("assigned", world.partner, due(14))
    # The other unit's offer is withdrawn: it no longer sees the wish, nor may claim it.
    assert not Need.objects.for_user(other_user).filter(pk=wish.pk).exists()
    with pytest.raises(ValidationError):
        needs_services.claim_need(user=other_user, need=wish)

    needs_services.start_need(user=world.partner_user, need=wish)
    wish = needs_services.resolve_need(
        user=world.partner_user, need=wish, resolution="已送到老人家中"
    )
    assert wish.status == "resolved"
    assert kinds(wish) == ["recorded", "accepted", "offered", "claimed", "started", "resolved"]


def test_only_micro_wishes_are_offered_and_only_to_units_of_the_community(world):
    need = need_in(world, "accepted")
    with pytest.raises(ValidationError) as exc:
        needs_services.offer_need(
            user=world.committee1, need=need, partner_units=[world.partner], due_on=due()
        )
    assert "category" in exc.value.detail
    wish = need_in(world, "accepted", category="micro_wish")
    with pytest.raises(ValidationError) as exc:
        needs_services.offer_need(
            user=world.committee1, need=wish, partner_units=[world.partner], due_on=due()
        )
    assert "partner_units" in exc.value.detail


def test_a_partner_unit_not_offered_the_wish_cannot_claim_it(world):
    wish = need_in(world, "accepted", category="micro_wish")
    with pytest.raises(PermissionDenied):
        needs_services.claim_need(user=world.partner_user, need=wish)


def test_a_partner_works_only_on_what_is_assigned_to_its_unit(world):
    world.partner.agreements.create(community=world.community1, signed_on=dt.date(2025, 1, 1))
    wish = need_in(world, "accepted", category="micro_wish")
    needs_services.offer_need(
        user=world.committee1, need=wish, partner_units=[world.partner], due_on=due()
    )
    needs_services.assign_need(user=world.committee1, need=wish, worker=world.worker1, due_on=due())
    with pytest.raises(PermissionDenied):
        needs_services.start_need(user=world.partner_user, need=wish)
    # Assigning withdrew the offer.
    assert not wish.offered_to.exists()
    with pytest.raises(PermissionDenied):
        needs_services.accept_need(user=world.partner_user, need=need_in(world, "new"))


# ---------------------------------------------------------------------------- ratings, 整改


def test_a_low_rating_opens_a_rectification_that_closes_the_need_once_accepted(world):
    need = need_in(world, "resolved")
    need = ratings_services.rate_need(
        user=world.resident_user, need=need, level=Rating.Level.DISSATISFIED, comment="还是暗"
    )
    assert need.status == "resolved"
    rectification = need.rectification
    assert (rectification.status, rectification.due_on) == (
        "open",
        due(7),
    )  # NEED_RECTIFICATION_DAYS

    with pytest.raises(ValidationError):
        ratings_services.accept_rectification(user=world.committee1, rectification=rectification)
    with pytest.raises(ValidationError) as exc:
        ratings_services.complete_rectification(
            user=world.worker1.user, rectification=rectification, note=""
        )
    assert "note" in exc.value.detail
    ratings_services.complete_rectification(
        user=world.worker1.user, rectification=rectification, note="换成了LED灯"
    )
    ratings_services.return_rectification(
        user=world.committee1, rectification=rectification, note="还有一盏没换"
    )
    rectification.refresh_from_db()
    assert rectification.status == "open"
    ratings_services.complete_rectification(
        user=world.worker1.user, rectification=rectification, note="两盏都换了"
    )
    with pytest.raises(PermissionDenied):
        ratings_services.accept_rectification(user=world.committee3, rectification=rectification)
    rectification = ratings_services.accept_rectification(
        user=world.committee1, rectification=rectification
    )
    assert rectification.status == "accepted" and rectification.accepted_by == world.committee1
    need.refresh_from_db()
    assert need.status == "closed"
    assert kinds(need)[-7:] == [
        "rated",
        "rectification_opened",
        "rectification_done",
        "rectification_returned",
        "rectification_done",
        "rectification_accepted",
        "closed",
    ]


@pytest.mark.parametrize("level", [5, 4, 3])
def test_a_good_or_neutral_rating_closes_the_need(world, level):
    need = ratings_services.rate_need(
        user=world.resident_user, need=need_in(world, "resolved"), level=level
    )
    assert need.status == "closed"
    assert not Rectification.objects.exists()


# ---------------------------------------------------------------------------- escalation


def _at(day: dt.date, hour: int = 1) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def test_an_overdue_need_goes_to_the_community_then_the_street_once_each(world):
    monday = dt.date(2026, 3, 2)
    with time_machine.travel(_at(monday - dt.timedelta(days=3)), tick=False):
        late = need_in(world, "assigned")
        needs_services.assign_need(
            user=world.committee1, need=late, department="水务", due_on=monday
        )
        on_time = need_in(world, "in_progress")
        needs_services.assign_need(
            user=world.committee1, need=on_time, department="水务", due_on=monday + dt.timedelta(9)
        )
        done = need_in(world, "resolved")
    done.due_on = monday - dt.timedelta(days=30)  # resolved needs are not overdue
    done.save(update_fields=["due_on"])

    with time_machine.travel(_at(monday), tick=False):
        assert bulk_services.escalate_overdue_needs() == 0  # due today is not overdue
    with time_machine.travel(_at(monday + dt.timedelta(days=1)), tick=False):
        assert bulk_services.escalate_overdue_needs() == 1
        assert bulk_services.escalate_overdue_needs() == 0
    late.refresh_from_db()
    assert late.escalation == Need.Escalation.COMMUNITY
    with time_machine.travel(_at(monday + dt.timedelta(days=2)), tick=False):
        assert bulk_services.escalate_overdue_needs() == 0
    with time_machine.travel(_at(monday + dt.timedelta(days=3)), tick=False):
        assert bulk_services.escalate_overdue_needs() == 1
        assert bulk_services.escalate_overdue_needs() == 0
    late.refresh_from_db()
    assert late.escalation == Need.Escalation.STREET
    events = late.events.filter(kind="escalated").order_by("at")
    assert [(e.actor, e.data["escalation"]) for e in events] == [(None, 1), (None, 2)]
    on_time.refresh_from_db()
    done.refresh_from_db()
    assert on_time.escalation == done.escalation == Need.Escalation.NONE


def test_a_need_found_long_overdue_goes_straight_to_the_street(world):
    need = need_in(world, "assigned")
    with time_machine.travel(timezone.now() + dt.timedelta(days=30)):
        assert bulk_services.escalate_overdue_needs() == 1
    need.refresh_from_db()
    assert need.escalation == Need.Escalation.STREET
    assert need.events.filter(kind="escalated").count() == 1


def test_escalating_by_hand_goes_up_one_level_and_stops_at_the_street(world):
    need = need_in(world, "new")
    needs_services.escalate_need(user=world.worker1.user, need=need, note="居民多次反映")
    needs_services.escalate_need(user=world.committee1, need=need)
    with pytest.raises(ValidationError) as exc:
        needs_services.escalate_need(user=world.admin1, need=need)
    assert "escalation" in exc.value.detail
    need.refresh_from_db()
    assert need.escalation == Need.Escalation.STREET


def test_resolved_needs_nobody_rated_close_after_the_rating_days(world, settings):
    settings.NEED_RATING_DAYS = 7
    need = need_in(world, "resolved")
    rated_low = need_in(world, "resolved")
    ratings_services.rate_need(user=world.resident_user, need=rated_low, level=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=6)):
        assert bulk_services.close_unrated_needs() == 0
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        assert bulk_services.close_unrated_needs() == 1
        assert bulk_services.close_unrated_needs() == 0
    need.refresh_from_db()
    rated_low.refresh_from_db()
    assert need.status == "closed" and need.closed_at is not None
    assert rated_low.status == "resolved"  # waiting for its rectification
    event = need.events.get(kind="closed")
    assert (event.actor, event.from_status, event.data) == (None, "resolved", {"unrated": True})


# ---------------------------------------------------------------------------- bulk, details


def test_bulk_assignment_assigns_what_it_may_and_skips_the_rest(world):
    mine = [need_in(world, "accepted") for _ in range(3)]
    new = need_in(world, "new")
    other_community = needs_services.record_need(
        user=world.worker3.user, title="x", category="other", source="patrol", grid=world.grid3
    )
    needs_services.accept_need(user=world.worker3.user, need=other_community)
    result = bulk_services.bulk_assign_needs(
        user=world.admin1,
        needs=Need.objects.all(),
        worker=world.worker2,
        due_on=due(5),
    )
    assert (result.done, result.skipped) == (3, 2)
    for need in mine:
        need.refresh_from_db()
        assert (need.status, need.assigned_worker, need.due_on) == (
            "assigned",
            world.worker2,
            due(5),
        )
        assert need.events.filter(kind="assigned", actor=world.admin1).count() == 1
    new.refresh_from_db()
    assert new.status == "new"
    result = bulk_services.bulk_accept_needs(user=world.committee1, needs=Need.objects.all())
    assert (result.done, result.skipped) == (1, 4)


def test_changing_details_is_on_the_timeline_and_closed_needs_stay_as_they_were(world):
    need = need_in(world, "new")
    needs_services.update_need(user=world.worker1.user, need=need, priority=4, title="路灯不亮")
    assert need.events.get(kind="updated").data == {"fields": ["priority"]}
    closed = need_in(world, "closed")
    with pytest.raises(ValidationError):
        needs_services.update_need(user=world.committee1, need=closed, priority=1)
    with pytest.raises(ValidationError) as exc:
        needs_services.update_need(user=world.committee1, need=need, grid=world.grid2)
    assert "grid" in exc.value.detail


def test_record_event_is_how_other_apps_write_on_the_timeline(world):
    need = need_in(world, "accepted")
    needs_services.record_event(
        need=need, kind=NeedEvent.Kind.COUNCIL, actor=world.committee1, data={"council": 1}
    )
    assert kinds(need)[-1] == "council"
