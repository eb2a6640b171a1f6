"""The team leader's phone pages (issue 16): their teams, members, activities with sign-ups and
waitlist, attendance recorded for members without a phone, completing an activity; scoped to
the teams the leader manages (`vol`: leader_a leads team A, leader_b team B)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from points.models import Claim
from tests.volunteers.conftest import new_activity
from volunteers.models import Activity, Attendance, Signup
from volunteers.services import activities as activities_services


def zh(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def started(vol, **kw) -> Activity:
    """An activity of team A that began an hour ago and lasts two hours."""
    return new_activity(vol, starts_in=-dt.timedelta(hours=1), hours=2, **kw)


def hhmm(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%H:%M")


# ---------------------------------------------------------------------------- scope


def test_a_leader_of_one_team_lands_on_that_teams_page(world, vol):
    r = zh(vol.leader_a).get(reverse("volunteers:leader_home"))
    assert r.status_code == 302
    assert r["Location"] == reverse("volunteers:leader_team", args=[vol.team_a.pk])


def test_the_team_page_lists_members_and_activities_with_their_sign_ups(world, vol):
    activity = new_activity(vol, capacity=1)
    activities_services.sign_up(user=vol.leader_a, activity=activity, membership=vol.member)
    activities_services.sign_up(user=vol.leader_a, activity=activity, membership=vol.others[0])
    r = zh(vol.leader_a).get(reverse("volunteers:leader_team", args=[vol.team_a.pk]))
    assert r.status_code == 200
    page = r.content.decode()
    assert "银龄调解队" in page and "调解邻里纠纷" in page
    assert "已报名 1/1 · 候补 1" in page, page
    assert world.resident3.name in page
    assert "无手机" in page  # the members without a login


def test_another_teams_pages_and_actions_are_404(world, vol):
    activity = started(vol)
    client = zh(vol.leader_b)
    assert client.get(reverse("volunteers:leader_team", args=[vol.team_a.pk])).status_code == 404
    for name in ("leader_activity", "leader_attendance", "leader_complete"):
        path = reverse(f"volunteers:{name}", args=[activity.pk])
        r = (
            client.get(path)
            if name == "leader_activity"
            else client.post(
                path, {"member": [vol.others[0].pk], "time_in": "09:00", "time_out": "10:00"}
            )
        )
        assert r.status_code == 404, name
    assert not Attendance.objects.exists()
    assert Activity.objects.get(pk=activity.pk).status == Activity.Status.PLANNED


def test_a_member_who_leads_nothing_is_told_so(world, vol):
    r = zh(vol.member_user).get(reverse("volunteers:leader_home"))
    assert r.status_code == 403
    assert "志愿服务队队长" in r.content.decode()
    assert (
        zh(vol.member_user).get(reverse("volunteers:leader_team", args=[vol.team_a.pk])).status_code
        == 404
    )


# ---------------------------------------------------------------------------- the activity


def test_the_activity_page_shows_sign_ups_the_waitlist_in_order_and_the_qr_link(world, vol):
    activity = new_activity(vol, capacity=1)
    for m in (vol.member, vol.others[0], vol.others[1]):
        activities_services.sign_up(user=vol.leader_a, activity=activity, membership=m)
    page = (
        zh(vol.leader_a)
        .get(reverse("volunteers:leader_activity", args=[activity.pk]))
        .content.decode()
    )
    assert "已报名：1 / 1 个名额" in page, page
    waitlist = page.split('data-test="waitlist"')[1]
    first, second = vol.others[0].resident.name, vol.others[1].resident.name
    assert waitlist.index(first) < waitlist.index(second)
    assert reverse("volunteers:activity_qr", args=[activity.pk]) in page


def test_recording_attendance_checks_the_ticked_members_in_and_out(world, vol):
    activity = started(vol)
    ticked = vol.others[:2]
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_attendance", args=[activity.pk]),
        {
            "member": [m.pk for m in ticked],
            "time_in": hhmm(activity.starts_at),
            "time_out": hhmm(activity.ends_at),
        },
        follow=True,
    )
    assert r.status_code == 200
    assert "已为 2 名队员登记出勤" in r.content.decode()
    rows = Attendance.objects.filter(activity=activity).order_by("membership_id")
    assert [a.membership_id for a in rows] == sorted(m.pk for m in ticked)
    for a in rows:
        assert a.hours == Decimal("2.00")
        assert a.recorded_by == vol.leader_a
    # Recorded members leave the form; the others stay.
    page = r.content.decode()
    form = page.split('id="record"')[1]
    assert vol.others[0].resident.name not in form and vol.others[2].resident.name in form


def test_a_check_out_before_the_check_in_is_refused_in_chinese_and_records_nobody(world, vol):
    activity = started(vol)
    ticked = [vol.others[0].pk, vol.others[1].pk]
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_attendance", args=[activity.pk]),
        {"member": ticked, "time_in": "10:00", "time_out": "09:00"},
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "签退时间必须晚于签到时间。" in page
    assert not Attendance.objects.filter(activity=activity).exists()
    # The form comes back as it was: the same boxes ticked, the times typed.
    assert page.count(' checked data-test="member-check"') == 2
    assert 'value="10:00"' in page and 'value="09:00"' in page


def test_nobody_ticked_or_a_bad_time_is_an_error(world, vol):
    activity = started(vol)
    path = reverse("volunteers:leader_attendance", args=[activity.pk])
    r = zh(vol.leader_a).post(path, {"time_in": "09:00", "time_out": "10:00"})
    assert r.status_code == 400 and "请至少勾选一名队员。" in r.content.decode()
    r = zh(vol.leader_a).post(
        path, {"member": [vol.others[0].pk], "time_in": "九点", "time_out": "10:00"}
    )
    assert r.status_code == 400 and "请按“时:分”填写时间" in r.content.decode()
    assert not Attendance.objects.exists()


def test_a_member_of_another_team_cannot_be_ticked_in(world, vol):
    activity = started(vol)
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_attendance", args=[activity.pk]),
        {"member": [vol.leader_b_membership.pk], "time_in": "09:00", "time_out": "10:00"},
    )
    assert r.status_code == 400
    assert not Attendance.objects.exists()


def test_completing_the_activity_claims_the_hours_points(world, vol):
    activity = started(vol)
    zh(vol.leader_a).post(
        reverse("volunteers:leader_attendance", args=[activity.pk]),
        {
            "member": [vol.others[0].pk],
            "time_in": hhmm(activity.starts_at),
            "time_out": hhmm(activity.ends_at),
        },
    )
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_complete", args=[activity.pk]), follow=True
    )
    page = r.content.decode()
    assert "活动已完成：1 条积分申报" in page, page
    activity.refresh_from_db()
    assert activity.status == Activity.Status.DONE and activity.completed_by == vol.leader_a
    claim = Claim.objects.get(volunteer_attendance__activity=activity)
    assert claim.points == 4  # 2 hours × 2 points an hour
    assert 'data-test="record"' not in page  # nothing more to record once done


def test_an_activity_not_started_cannot_be_completed(world, vol):
    activity = new_activity(vol)
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_complete", args=[activity.pk]), follow=True
    )
    assert "活动尚未开始，不能标记为已完成。" in r.content.decode()
    assert Activity.objects.get(pk=activity.pk).status == Activity.Status.PLANNED
    assert not Signup.objects.exists()


def test_the_qr_page_has_a_print_button_and_a_way_back(world, vol):
    activity = new_activity(vol)
    page = (
        zh(vol.leader_a).get(reverse("volunteers:activity_qr", args=[activity.pk])).content.decode()
    )
    assert "window.print()" in page and "打印" in page
    assert reverse("volunteers:leader_activity", args=[activity.pk]) in page
    assert "@media print" in page


def test_attendance_sent_for_a_done_activity_is_refused_with_a_message(world, vol):
    activity = started(vol)
    activities_services.complete_activity(user=vol.leader_a, activity=activity)
    r = zh(vol.leader_a).post(
        reverse("volunteers:leader_attendance", args=[activity.pk]),
        {"member": [vol.others[0].pk], "time_in": "09:00", "time_out": "10:00"},
        follow=True,
    )
    assert r.status_code == 200
    assert "只有计划中的活动可以报名和签到" in r.content.decode()
    assert r.content.decode().count('class="error"') == 1
    assert not Attendance.objects.exists()
