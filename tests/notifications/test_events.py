"""Every hooked event tells the right person once: orders, the close (ready for pickup, the
notice), objections, micro-wishes, rectifications and tomorrow's volunteer activities."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from notifications import sms
from notifications.events import Event
from notifications.models import Notification, NotificationSetting
from notifications.tasks import remind_activities_tomorrow
from points.models import Entry, Order, Rule
from points.services import claims as claims_services
from points.services import objections as objections_services
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services
from tests import factories as f
from tests.points.test_close import SHANGHAI, close, close_job_runs_in_process, village  # noqa: F401
from volunteers.services import activities as activity_services

# Delivery runs in Celery after the commit: in-process here, also on CI's broker pass.
pytestmark = pytest.mark.usefixtures("tasks_in_process")


@pytest.fixture(autouse=True)
def _clean(settings):
    sms.outbox.clear()
    settings.SMS_QUIET_START = settings.SMS_QUIET_END = 0
    settings.SMS_MAX_PER_HOUR = 0
    yield
    sms.outbox.clear()


def told(event, **who):
    return Notification.objects.filter(event=event, **who)


def test_orders_placed_and_cancelled_then_ready_at_the_close_and_the_notice(
    village,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    w = village
    # placed and cancelled inside the window (recorded with the order, in its transaction)
    assert told(Event.ORDER_PLACED, recipient=w.resident_user).count() == 1
    refunded = told(Event.ORDER_REFUNDED, resident=w.resident5).get()
    assert "已取消" in refunded.text and "已退回" in refunded.text
    close(w, django_capture_on_commit_callbacks)
    ready = told(Event.ORDER_READY)
    assert sorted(ready.values_list("resident_id", flat=True)) == sorted(
        [w.resident1.pk, w.resident2.pk, w.resident5.pk, w.resident3.pk]
    )
    notice = told(Event.NOTICE_PUBLISHED, recipient=w.resident_user).get()
    assert "2026Q3" in notice.text and "获得40分" in notice.text and "请于" in notice.text
    assert notice.link.startswith("/notice/2026Q3/")
    count = Notification.objects.count()
    close(w, django_capture_on_commit_callbacks)  # a second close tells nobody again
    assert Notification.objects.count() == count
    assert Order.objects.filter(status="frozen").count() == 4


def test_an_objection_decided_tells_who_raised_it(world, django_capture_on_commit_callbacks):
    rule = Rule.objects.create(
        community=world.community1, code="清扫", name="清扫", category="reward", points=2
    )
    claim = claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rule
    )
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    entry = Entry.objects.get(key=f"claim:{claim.pk}")
    objection = objections_services.raise_objection(
        user=world.resident_user, entry=entry, reason="我做了两次"
    )
    with django_capture_on_commit_callbacks(execute=True):
        objections_services.dismiss_objection(
            objection=objection, user=world.committee1, note="只登记了一次"
        )
    decided = told(Event.OBJECTION_DECIDED, recipient=world.resident_user).get()
    assert "异议不成立" in decided.text and "只登记了一次" in decided.text


def test_a_micro_wish_offered_tells_the_partner_units_contacts(world):
    worker = world.worker3.user
    need = needs_services.record_need(
        user=worker, title="想要一台收音机", category="micro_wish", source="visit",
        resident=world.resident3,
    )  # fmt: skip
    needs_services.accept_need(user=worker, need=need)
    needs_services.offer_need(
        user=worker, need=need, partner_units=[world.partner],
        due_on=dt.date.today() + dt.timedelta(days=10),
    )  # fmt: skip
    offered = told(Event.MICRO_WISH_OFFERED, recipient=world.partner_user).get()
    assert "想要一台收音机" in offered.text and "市委办" in offered.text
    assert offered.link == f"/partner/needs/{need.pk}/"


def test_a_low_rating_tells_the_worker_the_rectification_is_due(world):
    worker = world.worker1.user
    need = needs_services.record_need(
        user=worker, title="垃圾清运不及时", category="environment", source="visit",
        resident=world.resident1,
    )  # fmt: skip
    needs_services.accept_need(user=worker, need=need)
    needs_services.assign_need(
        user=worker, need=need, due_on=dt.date.today() + dt.timedelta(days=2),
        worker=world.worker1,
    )  # fmt: skip
    needs_services.start_need(user=worker, need=need)
    needs_services.resolve_need(user=worker, need=need, resolution="已清运")
    ratings_services.rate_need(user=world.resident_user, need=need, level=1, comment="太慢")
    due = told(Event.RECTIFICATION_DUE, recipient=worker).get()
    assert "垃圾清运不及时" in due.text and "整改" in due.text


def test_volunteers_are_reminded_the_day_before_an_activity_once(
    world, django_capture_on_commit_callbacks
):
    team = f.VolunteerTeamFactory(community=world.community1, name="银龄调解队")
    member = f.VolunteerMembershipFactory(team=team, resident=world.resident1)
    phone_only = f.VolunteerMembershipFactory(
        team=team, resident=f.ResidentFactory(household=world.household1, name="钱大妈")
    )
    with time_machine.travel(dt.datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI), tick=False):
        starts = dt.datetime(2026, 11, 11, 9, 0, tzinfo=SHANGHAI)
        activity = activity_services.create_activity(
            user=world.superuser, team=team, title="义务理发", starts_at=starts,
            ends_at=starts + dt.timedelta(hours=2), place="村委会", capacity=10,
        )  # fmt: skip
        for m in (member, phone_only):
            activity_services.sign_up(user=world.superuser, activity=activity, membership=m)
    with (
        time_machine.travel(dt.datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert remind_activities_tomorrow() == 2
        remind_activities_tomorrow()
    reminders = told(Event.ACTIVITY_TOMORROW)
    assert reminders.count() == 2
    assert "义务理发" in reminders.get(recipient=world.resident_user).text
    assert [m["phone"] for m in sms.outbox] == [phone_only.resident.phone]


def test_a_committee_turns_its_communitys_events_off_in_the_admin(world, staff_client):
    mine = NotificationSetting.objects.create(community=world.community1, event=Event.DEDUCTION)
    other = NotificationSetting.objects.create(community=world.community3, event=Event.DEDUCTION)
    admin = staff_client(world.committee1)
    listed = admin.get("/admin/notifications/notificationsetting/")
    assert listed.status_code == 200
    assert listed.context["cl"].result_count == 1
    assert admin.get(
        f"/admin/notifications/notificationsetting/{other.pk}/change/"
    ).status_code in (
        302,
        404,
    )
    r = admin.post(
        f"/admin/notifications/notificationsetting/{mine.pk}/change/",
        {"community": world.community1.pk, "event": Event.DEDUCTION},  # enabled unticked
    )
    assert r.status_code == 302
    mine.refresh_from_db()
    assert mine.enabled is False
