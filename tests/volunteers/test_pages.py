"""The activity's QR code page (its managers) and the check-in page the code opens."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse

from tests.volunteers.conftest import new_activity
from volunteers.models import Attendance


def browser(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_qr_page_encodes_the_check_in_link(world, vol):
    activity = new_activity(vol)
    r = browser(vol.leader_a).get(reverse("volunteers:activity_qr", args=[activity.pk]))
    assert r.status_code == 200
    text = r.content.decode()
    assert "<svg" in text and f"/volunteers/check-in/{activity.check_in_token}/" in text


def test_the_qr_page_fits_a_phone_and_prints_on_a4(world, vol):
    """Shown on a phone at the place as often as printed: the mobile viewport (without it a
    phone lays the page out 980 px wide) and the one print stylesheet."""
    activity = new_activity(vol)
    response = browser(vol.leader_a).get(reverse("volunteers:activity_qr", args=[activity.pk]))
    page = response.content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "@page { size: A4" in page


def test_only_the_teams_managers_print_the_qr_code(world, vol):
    activity = new_activity(vol)
    path = reverse("volunteers:activity_qr", args=[activity.pk])
    assert browser(vol.leader_b).get(path).status_code == 404
    assert browser(vol.member_user).get(path).status_code == 404
    assert browser(vol.committee2).get(path).status_code == 200


def test_scanning_the_code_checks_a_member_in_and_out(world, vol):
    activity = new_activity(vol, starts_in=dt.timedelta(minutes=20))
    path = reverse("volunteers:check_in", args=[activity.check_in_token])
    client = browser(vol.member_user)
    r = client.get(path)
    assert r.status_code == 200 and activity.title in r.content.decode()
    r = client.post(path, {"action": "in"}, follow=True)
    assert "Checked in" in r.content.decode()
    assert Attendance.objects.filter(activity=activity, membership=vol.member).exists()


def test_a_logged_out_phone_is_sent_to_the_login(world, vol):
    activity = new_activity(vol)
    r = Client().get(reverse("volunteers:check_in", args=[activity.check_in_token]))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_a_non_member_is_told_and_cannot_check_in(world, vol):
    activity = new_activity(vol, starts_in=dt.timedelta(minutes=20))
    path = reverse("volunteers:check_in", args=[activity.check_in_token])
    client = browser(world.resident_user)
    assert "not a member" in client.get(path).content.decode()
    client.post(path, {"action": "in"})
    assert not Attendance.objects.exists()


def test_an_unknown_code_is_a_404(world, vol):
    r = browser(vol.member_user).get(reverse("volunteers:check_in", args=["nope"]))
    assert r.status_code == 404
