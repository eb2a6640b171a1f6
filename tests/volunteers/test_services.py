"""volunteers.services: sign-up with capacity and waitlist, check-in and check-out giving
hours (across midnight too), completion claiming points once, the cap, and who may do what."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from core.scope import resolve_scope
from points.models import Claim, Entry, Period
from points.services import claims as claims_services
from tests import factories as f
from tests.api_helpers import fresh
from tests.volunteers.conftest import new_activity
from volunteers import access
from volunteers.models import Activity, Attendance, Membership, Signup
from volunteers.services import activities as activities_services
from volunteers.services import teams as teams_services


def sign_up(v, activity, membership):
    return activities_services.sign_up(user=v.leader_a, activity=activity, membership=membership)


# ---------------------------------------------------------------------------- scope


def test_a_team_leader_is_scoped_to_the_team_they_lead(world, vol):
    scope = resolve_scope(vol.leader_a)
    assert scope.team_ids == {vol.team_a.id}
    assert not (scope.community_ids or scope.street_ids or scope.grid_ids)


def test_a_leader_by_their_resident_login_is_scoped_to_the_team_too(world, vol):
    vol.leader_a_membership.user = None
    vol.leader_a_membership.save()
    resident = vol.leader_a_membership.resident
    resident.user = vol.leader_a
    resident.save(update_fields=["user"])
    assert resolve_scope(fresh(vol.leader_a)).team_ids == {vol.team_a.id}


def test_a_former_leader_or_a_plain_member_leads_no_team(world, vol):
    assert not resolve_scope(vol.member_user).team_ids
    teams_services.update_member(
        user=vol.committee2, membership=vol.leader_a_membership, active=False
    )
    assert not resolve_scope(fresh(vol.leader_a)).team_ids


def test_the_scope_of_a_team_leader_is_not_empty(world, vol):
    assert not resolve_scope(vol.leader_a).is_empty


# ---------------------------------------------------------------------------- teams, members


def test_naming_a_new_leader_makes_the_old_one_a_member(world, vol):
    teams_services.update_member(user=vol.committee2, membership=vol.member, role="leader")
    vol.leader_a_membership.refresh_from_db()
    assert vol.leader_a_membership.role == "member"
    assert vol.team_a.leader == vol.member


def test_a_member_must_live_in_the_teams_community(world, vol):
    with pytest.raises(ValidationError):
        teams_services.add_member(user=vol.committee2, team=vol.team_a, resident=world.resident1)


def test_a_former_member_comes_back_on_the_same_membership(world, vol):
    teams_services.update_member(user=vol.leader_a, membership=vol.member, active=False)
    again = teams_services.add_member(user=vol.leader_a, team=vol.team_a, resident=world.resident3)
    assert again.pk == vol.member.pk and again.active


def test_the_leader_of_team_a_cannot_manage_team_b(world, vol):
    with pytest.raises(PermissionDenied):
        teams_services.add_member(user=vol.leader_a, team=vol.team_b, resident=world.resident3)
    with pytest.raises(PermissionDenied):
        new_activity(vol, team=vol.team_b, user=vol.leader_a)


def test_the_hours_rule_is_a_fixed_reward_rule_of_the_community(world, vol):
    from points.models import Rule

    elsewhere = Rule.objects.create(
        community=world.community1, code="x", name="x", category="reward", points=1
    )
    with pytest.raises(ValidationError):
        teams_services.create_team(
            user=vol.committee2, community=world.community2, name="新队", hours_rule=elsewhere
        )
    fine = Rule.objects.create(
        community=world.community2, code="fine", name="罚", category="deduction", points=1
    )
    with pytest.raises(ValidationError):
        teams_services.update_team(user=vol.committee2, team=vol.team_b, hours_rule=fine)


def test_a_team_leader_cannot_choose_what_the_hours_are_worth(world, vol):
    with pytest.raises(PermissionDenied):
        teams_services.update_team(user=vol.leader_b, team=vol.team_b, hours_rule=vol.hour_rule)
    team = teams_services.update_team(user=vol.leader_b, team=vol.team_b, description="周末服务")
    assert team.description == "周末服务"


# ---------------------------------------------------------------------------- sign-up


def test_sign_ups_past_the_capacity_go_on_the_waitlist(world, vol):
    activity = new_activity(vol, capacity=2)
    members = [vol.member, *vol.others]
    statuses = [sign_up(vol, activity, m).status for m in members]
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]


def test_a_withdrawal_moves_the_first_on_the_waitlist_up(world, vol):
    activity = new_activity(vol, capacity=1)
    activities_services.sign_up(user=vol.member_user, activity=activity)
    first, second = (sign_up(vol, activity, m) for m in vol.others[:2])
    assert first.status == second.status == "waitlisted"
    withdrawn = activities_services.withdraw(user=vol.member_user, activity=activity)
    assert withdrawn.status == "withdrawn"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("confirmed", "waitlisted")


def test_a_waitlisted_withdrawal_moves_nobody(world, vol):
    activity = new_activity(vol, capacity=1)
    sign_up(vol, activity, vol.member)
    waiting = sign_up(vol, activity, vol.others[0])
    last = sign_up(vol, activity, vol.others[1])
    activities_services.withdraw(
        user=vol.leader_a, activity=activity, membership=waiting.membership
    )
    last.refresh_from_db()
    assert last.status == "waitlisted"


def test_signing_up_twice_returns_the_same_sign_up(world, vol):
    activity = new_activity(vol)
    one = activities_services.sign_up(user=vol.member_user, activity=activity)
    assert activities_services.sign_up(user=vol.member_user, activity=activity) == one
    assert Signup.objects.count() == 1


def test_signing_up_again_after_withdrawing_goes_to_the_end_of_the_line(world, vol):
    activity = new_activity(vol, capacity=1)
    activities_services.sign_up(user=vol.member_user, activity=activity)
    waiting = sign_up(vol, activity, vol.others[0])
    activities_services.withdraw(user=vol.member_user, activity=activity)
    again = activities_services.sign_up(user=vol.member_user, activity=activity)
    waiting.refresh_from_db()
    assert (waiting.status, again.status) == ("confirmed", "waitlisted")


def test_raising_the_capacity_moves_the_waitlist_up(world, vol):
    activity = new_activity(vol, capacity=1)
    sign_up(vol, activity, vol.member)
    waiting = sign_up(vol, activity, vol.others[0])
    activities_services.update_activity(user=vol.leader_a, activity=activity, capacity=2)
    waiting.refresh_from_db()
    assert waiting.status == "confirmed"


def test_the_capacity_cannot_go_below_the_confirmed_members(world, vol):
    activity = new_activity(vol, capacity=2)
    sign_up(vol, activity, vol.member)
    sign_up(vol, activity, vol.others[0])
    with pytest.raises(ValidationError):
        activities_services.update_activity(user=vol.leader_a, activity=activity, capacity=1)


def test_a_non_member_cannot_sign_up(world, vol):
    activity = new_activity(vol)
    with pytest.raises(PermissionDenied):
        activities_services.sign_up(user=world.resident_user, activity=activity)


def test_a_member_cannot_sign_up_someone_else(world, vol):
    activity = new_activity(vol)
    with pytest.raises(PermissionDenied):
        activities_services.sign_up(
            user=vol.member_user, activity=activity, membership=vol.others[0]
        )


def test_sign_up_closes_when_the_activity_starts(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(minutes=5))
    with pytest.raises(ValidationError):
        activities_services.sign_up(user=vol.member_user, activity=activity)


# ---------------------------------------------------------------------------- attendance


def test_hours_across_midnight_count_from_check_in_to_check_out(world, vol):
    tz = timezone.get_current_timezone()
    night = dt.datetime.combine(timezone.localdate() - dt.timedelta(days=3), dt.time(22), tz)
    activity = activities_services.create_activity(
        user=vol.leader_a, team=vol.team_a, title="夜间巡逻", place="黄山小区",
        starts_at=night, ends_at=night + dt.timedelta(hours=4), capacity=5,
    )  # fmt: skip
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=vol.member, at=night
    )
    attendance = activities_services.check_out(
        user=vol.leader_a,
        activity=activity,
        membership=vol.member,
        at=night + dt.timedelta(hours=3, minutes=30),  # 01:30 the next day
    )
    assert attendance.checked_out_at.astimezone(tz).time() == dt.time(1, 30)
    assert attendance.hours == Decimal("3.50")
    assert attendance.recorded_by == vol.leader_a


def test_hours_between_is_rounded_down_to_the_hundredth():
    start = dt.datetime(2026, 1, 1, 22, tzinfo=dt.UTC)
    assert activities_services.hours_between(start, start + dt.timedelta(minutes=20)) == Decimal(
        "0.33"
    )


def test_a_member_checks_in_with_the_qr_code_and_out_again(world, vol):
    activity = new_activity(vol, starts_in=dt.timedelta(minutes=30), hours=2)
    activities_services.sign_up(user=vol.leader_a, activity=activity, membership=vol.member)
    Activity.objects.filter(pk=activity.pk).update(
        starts_at=activity.starts_at - dt.timedelta(hours=1),
        ends_at=activity.ends_at - dt.timedelta(hours=1),
    )  # it started half an hour ago
    attendance = activities_services.check_in(
        user=vol.member_user, activity=activity, token=activity.check_in_token
    )
    assert attendance.recorded_by is None
    again = activities_services.check_in(
        user=vol.member_user, activity=activity, token=activity.check_in_token
    )
    assert again.pk == attendance.pk
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=45)):
        out = activities_services.check_out(user=vol.member_user, activity=activity)
    assert Decimal("0.74") <= out.hours <= Decimal("0.75")


def test_checking_in_without_the_qr_code_is_refused(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(minutes=30))
    with pytest.raises(PermissionDenied):
        activities_services.check_in(user=vol.member_user, activity=activity, token="wrong")
    with pytest.raises(PermissionDenied):
        activities_services.check_in(user=vol.member_user, activity=activity)


def test_a_member_without_a_sign_up_is_signed_up_on_the_spot_while_there_is_room(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(minutes=10), capacity=1)
    activities_services.check_in(
        user=vol.member_user, activity=activity, token=activity.check_in_token
    )
    assert Signup.objects.get(activity=activity).status == "confirmed"


def test_a_waitlisted_member_cannot_check_in_themselves(world, vol):
    activity = new_activity(vol, capacity=1)
    sign_up(vol, activity, vol.others[0])
    sign_up(vol, activity, vol.member)
    Activity.objects.filter(pk=activity.pk).update(
        starts_at=timezone.now() - dt.timedelta(minutes=5),
        ends_at=timezone.now() + dt.timedelta(hours=1),
    )
    with pytest.raises(ValidationError):
        activities_services.check_in(
            user=vol.member_user, activity=activity, token=activity.check_in_token
        )


def test_check_in_opens_an_hour_before_the_start(world, vol):
    activity = new_activity(vol, starts_in=dt.timedelta(hours=3))
    with pytest.raises(ValidationError):
        activities_services.check_in(
            user=vol.member_user, activity=activity, token=activity.check_in_token
        )


def test_a_members_own_check_out_stops_counting_at_the_activitys_end(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(hours=5), hours=2)
    activities_services.check_in(
        user=vol.leader_a,
        activity=activity,
        membership=vol.member,
        at=activity.starts_at,
    )
    out = activities_services.check_out(user=vol.member_user, activity=activity)
    assert out.checked_out_at == activity.ends_at
    assert out.hours == Decimal("2.00")


def test_the_check_out_must_come_after_the_check_in(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(hours=5))
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=vol.member, at=activity.ends_at
    )
    with pytest.raises(ValidationError):
        activities_services.check_out(
            user=vol.leader_a, activity=activity, membership=vol.member, at=activity.starts_at
        )


# ---------------------------------------------------------------------------- completion


def attended(vol, activity, membership, hours):
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=membership, at=activity.starts_at
    )
    return activities_services.check_out(
        user=vol.leader_a,
        activity=activity,
        membership=membership,
        at=activity.starts_at + dt.timedelta(hours=hours),
    )


def test_completion_claims_hours_times_points_per_hour_rounded_down(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=4)
    attended(vol, activity, vol.member, 3.75)  # 7.5 points → 7
    attended(vol, activity, vol.others[0], 0.25)  # 0.5 points → none
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    claim = Claim.objects.get()
    assert (claim.resident, claim.points, claim.status) == (world.resident3, 7, "submitted")
    assert claim.submitted_by == vol.leader_a
    assert claim.rule == vol.hour_rule
    assert claim.occurred_on == timezone.localdate(activity.starts_at)
    small = Attendance.objects.get(membership=vol.others[0])
    assert small.claim is None and small.points_note
    assert Attendance.objects.get(membership=vol.member).claim == claim
    activity.refresh_from_db()
    assert activity.status == "done" and activity.completed_by == vol.leader_a


def test_completing_twice_claims_nothing_more(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=4)
    attended(vol, activity, vol.member, 2)
    attended(vol, activity, vol.others[0], 3)
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    assert Claim.objects.count() == 2
    again = activities_services.complete_activity(user=vol.committee2, activity=activity)
    assert again.status == "done" and again.completed_by == vol.leader_a
    assert Claim.objects.count() == 2


def test_the_committee_approves_hours_claims_like_any_claim(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=4)
    attended(vol, activity, vol.member, 2)
    activities_services.complete_activity(user=vol.committee2, activity=activity)
    claim = Claim.objects.get()
    with pytest.raises(PermissionDenied):  # never by its submitter
        claims_services.approve_claim(claim=claim, approver=vol.committee2)
    claims_services.approve_claim(claim=claim, approver=vol.committee2b)
    assert Entry.objects.get().amount == 4


def test_an_attendee_who_forgot_to_check_out_is_counted_until_the_end(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1), hours=3)
    activities_services.check_in(
        user=vol.leader_a, activity=activity, membership=vol.member, at=activity.starts_at
    )
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    attendance = Attendance.objects.get()
    assert attendance.hours == Decimal("3.00")
    assert attendance.claim.points == 6


def test_past_the_cap_the_claim_is_cut_to_what_is_left_or_skipped(world, vol):
    vol.hour_rule.cap_per_quarter = 10
    vol.hour_rule.save()
    # Three days well inside the last quarter, so that one cap applies to all three.
    _code, quarter_start, _end = Period.bounds(timezone.localdate())
    tz = timezone.get_current_timezone()
    base = dt.datetime.combine(quarter_start - dt.timedelta(days=20), dt.time(9), tz)
    activities = []
    for day in range(3):
        activity = new_activity(vol, starts_in=base + dt.timedelta(days=day) - timezone.now())
        attended(vol, activity, vol.member, 2)  # 4 points each: 4, 4, then 2 of 4
        activities_services.complete_activity(user=vol.leader_a, activity=activity)
        activities.append(activity)
    fourth = new_activity(vol, starts_in=base + dt.timedelta(days=3) - timezone.now())
    attended(vol, fourth, vol.member, 2)  # none left
    activities_services.complete_activity(user=vol.leader_a, activity=fourth)
    assert list(Claim.objects.order_by("id").values_list("points", flat=True)) == [4, 4, 2]
    cut = Attendance.objects.get(activity=activities[2])
    assert cut.claim.points == 2 and cut.points_note
    skipped = Attendance.objects.get(activity=fourth)
    assert skipped.claim is None and skipped.points_note


def test_a_team_without_an_hours_rule_records_hours_but_claims_nothing(world, vol):
    activity = new_activity(
        vol, team=vol.team_b, user=vol.leader_b, starts_in=-dt.timedelta(days=1)
    )
    activities_services.check_in(
        user=vol.leader_b,
        activity=activity,
        membership=vol.leader_b_membership,
        at=activity.starts_at,
    )
    activities_services.complete_activity(user=vol.leader_b, activity=activity)
    assert not Claim.objects.exists()
    assert Attendance.objects.get().hours == Decimal("2.00")


def test_a_cancelled_activity_cannot_be_done_and_the_message_names_the_states(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    activities_services.cancel_activity(user=vol.leader_a, activity=activity)
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        activities_services.complete_activity(user=vol.leader_a, activity=activity)
    assert "planned → done | cancelled" in str(exc.value)


def test_an_activity_that_has_not_started_cannot_be_done(world, vol):
    activity = new_activity(vol)
    with pytest.raises(ValidationError):
        activities_services.complete_activity(user=vol.leader_a, activity=activity)


def test_no_attendance_is_taken_once_the_activity_is_done(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    with pytest.raises(ValidationError):
        activities_services.check_in(
            user=vol.leader_a, activity=activity, membership=vol.member, at=activity.starts_at
        )


def test_the_leader_of_another_team_cannot_complete_the_activity(world, vol):
    activity = new_activity(vol, starts_in=-dt.timedelta(days=1))
    for outsider in (vol.leader_b, vol.leader_c, world.committee1, vol.member_user):
        with pytest.raises(PermissionDenied):
            activities_services.complete_activity(user=fresh(outsider), activity=activity)


def test_membership_roles_are_one_leader_per_team_in_the_database(world, vol):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.filter(pk=vol.member.pk).update(role="leader")


def test_a_street_admin_manages_the_teams_of_their_street_only(world, vol):
    assert access.may_manage_team(world.admin1, vol.team_a)
    assert not access.may_manage_team(world.admin1, vol.team_c)
    assert access.may_manage_team(world.admin2, vol.team_c)
    assert not access.may_manage_team(f.UserFactory(username="nobody"), vol.team_a)
