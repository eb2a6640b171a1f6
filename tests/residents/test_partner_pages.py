"""The partner contact's phone pages (issue 16): their unit's micro-wishes and needs, 接单,
start, report the result with photos, the unit's history; scoped to the contact's units.

Personas: `partner` (市委办, world), a contact of another unit with an agreement with the same
community (`other`), a resident, and a grid worker (outsiders to the pages)."""

from __future__ import annotations

import datetime as dt
import io
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from residents.models import Need, NeedEvent, NeedPhoto
from residents.services import needs as needs_services
from tests import factories as f


def zh(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def jpeg(name: str = "result.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(buffer, "JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


@pytest.fixture
def p(world) -> SimpleNamespace:
    """Micro-wishes of 泰山社区 (community 2): one offered to 市委办 and 市人大, one offered to
    市人大 only, made by the committee through the services."""
    s = SimpleNamespace(w=world)
    s.committee = f.committee_member(world.community2, "committee2").user
    s.other_unit = f.PartnerUnitFactory(name="市人大")
    s.other_unit.agreements.create(community=world.community2, signed_on=dt.date(2025, 3, 1))
    s.other = f.UserFactory(username="partner2", groups=["partner"])
    s.other_unit.contacts.add(s.other)

    def wish(title: str, units: list) -> Need:
        need = needs_services.record_need(
            user=s.committee,
            title=title,
            category=Need.Category.MICRO_WISH,
            source=Need.Source.VISIT,
            grid=world.grid3,
            text="独居老人, 行动不便。",
        )
        needs_services.accept_need(user=s.committee, need=need)
        return needs_services.offer_need(
            user=s.committee,
            need=need,
            partner_units=units,
            due_on=timezone.localdate() + dt.timedelta(days=7),
        )

    s.shared = wish("一台折叠轮椅", [world.partner, s.other_unit])
    s.theirs = wish("一套冬衣", [s.other_unit])
    return s


def status_of(need: Need) -> str:
    return Need.objects.get(pk=need.pk).status


# ---------------------------------------------------------------------------- scope


def test_the_list_shows_what_is_offered_to_the_unit_and_nothing_of_another_unit(p):
    r = zh(p.w.partner_user).get(reverse("partners:home"))
    assert r.status_code == 200
    page = r.content.decode()
    assert "市委办" in page and "待接单的微心愿" in page
    assert "一台折叠轮椅" in page
    assert "一套冬衣" not in page


def test_another_units_need_is_a_404_to_read_and_to_act_on(p):
    client = zh(p.w.partner_user)
    for name in ("need", "claim", "start", "resolve"):
        path = reverse(f"partners:{name}", args=[p.theirs.pk])
        r = client.get(path) if name == "need" else client.post(path, {"resolution": "x"})
        assert r.status_code == 404, name
    assert status_of(p.theirs) == Need.Status.ACCEPTED


def test_a_user_who_is_no_partner_contact_is_told_so(p):
    for user in (p.w.resident_user, p.w.worker3.user):
        r = zh(user).get(reverse("partners:home"))
        assert r.status_code == 403
        assert "共建单位联络人" in r.content.decode()
    r = zh(p.w.worker3.user).get(reverse("partners:need", args=[p.shared.pk]))
    assert r.status_code == 403


def test_a_logged_out_phone_is_sent_to_the_login():
    r = Client().get("/partner/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


# ---------------------------------------------------------------------------- the steps


def test_claiming_makes_the_wish_the_units_and_ends_the_other_offers(p):
    client = zh(p.w.partner_user)
    r = client.post(reverse("partners:claim", args=[p.shared.pk]), follow=True)
    assert r.status_code == 200
    assert "已接单" in r.content.decode()
    need = Need.objects.get(pk=p.shared.pk)
    assert need.status == Need.Status.ASSIGNED
    assert need.assigned_partner_id == p.w.partner.pk
    assert list(need.offered_to.all()) == [p.w.partner]
    assert need.events.filter(kind=NeedEvent.Kind.CLAIMED, actor=p.w.partner_user).exists()
    # The other unit no longer sees it.
    assert zh(p.other).get(reverse("partners:need", args=[p.shared.pk])).status_code == 404


def test_a_second_claim_is_refused_in_chinese_and_changes_nothing(p):
    client = zh(p.w.partner_user)
    client.post(reverse("partners:claim", args=[p.shared.pk]))
    event_count = NeedEvent.objects.filter(need=p.shared).count()
    r = client.post(reverse("partners:claim", args=[p.shared.pk]), follow=True)
    page = r.content.decode()
    assert "不能进行“已认领”操作" in page, page
    assert NeedEvent.objects.filter(need=p.shared).count() == event_count


def test_start_then_report_the_result_with_photos(p):
    client = zh(p.w.partner_user)
    client.post(reverse("partners:claim", args=[p.shared.pk]))
    r = client.post(reverse("partners:start", args=[p.shared.pk]), follow=True)
    assert "已开始办理" in r.content.decode()
    assert status_of(p.shared) == Need.Status.IN_PROGRESS
    r = client.post(
        reverse("partners:resolve", args=[p.shared.pk]),
        {"resolution": "轮椅已送到老人家中。", "photos": [jpeg("a.jpg"), jpeg("b.jpg")]},
        follow=True,
    )
    assert r.status_code == 200
    need = Need.objects.get(pk=p.shared.pk)
    assert need.status == Need.Status.RESOLVED
    assert need.resolution == "轮椅已送到老人家中。"
    assert NeedPhoto.objects.filter(need=need, uploaded_by=p.w.partner_user).count() == 2
    page = r.content.decode()
    assert "已办结" in page and "2 张照片" in page
    assert page.count(f"/api/v1/needs/{need.pk}/photos/") >= 2
    # The unit's history lists it.
    history = zh(p.w.partner_user).get(reverse("partners:home")).content.decode()
    assert "本单位办理记录" in history and "一台折叠轮椅" in history


def in_progress(p) -> Need:
    client = zh(p.w.partner_user)
    client.post(reverse("partners:claim", args=[p.shared.pk]))
    client.post(reverse("partners:start", args=[p.shared.pk]))
    assert status_of(p.shared) == Need.Status.IN_PROGRESS
    return p.shared


def test_a_report_without_what_was_done_is_refused_and_keeps_no_photo(p):
    need = in_progress(p)
    r = zh(p.w.partner_user).post(
        reverse("partners:resolve", args=[need.pk]), {"resolution": "  ", "photos": [jpeg()]}
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "请填写需求的办理结果。" in page, page
    assert "请重新选择照片" in page
    assert status_of(need) == Need.Status.IN_PROGRESS
    assert not NeedPhoto.objects.filter(need=need).exists()
    assert not need.events.filter(kind=NeedEvent.Kind.PHOTO).exists()


def test_a_file_that_is_no_photo_is_refused_and_the_text_typed_is_kept(p):
    need = in_progress(p)
    bad = SimpleUploadedFile("notes.txt", b"not an image", content_type="image/jpeg")
    r = zh(p.w.partner_user).post(
        reverse("partners:resolve", args=[need.pk]),
        {"resolution": "轮椅已送到老人家中。", "photos": [bad]},
    )
    assert r.status_code == 400
    page = r.content.decode()
    assert "notes.txt 不是照片" in page, page
    assert "轮椅已送到老人家中。</textarea>" in page
    assert status_of(need) == Need.Status.IN_PROGRESS
    assert not NeedPhoto.objects.filter(need=need).exists()


def test_a_need_assigned_to_the_unit_can_be_started_but_one_not_yet_claimed_cannot(p):
    r = zh(p.w.partner_user).post(reverse("partners:start", args=[p.shared.pk]), follow=True)
    assert status_of(p.shared) == Need.Status.ACCEPTED
    assert r.content.decode().count('class="error"') == 1


def test_the_timeline_names_people_and_reads_in_chinese(p):
    p.w.partner_user.first_name = "张伟"
    p.w.partner_user.save(update_fields=["first_name"])
    client = zh(p.w.partner_user)
    client.post(reverse("partners:claim", args=[p.shared.pk]))
    page = client.get(reverse("partners:need", args=[p.shared.pk])).content.decode()
    assert "张伟" in page
    assert "共建单位已认领" in page
    assert ">assigned<" not in page and "已交办" in page


def test_a_report_sent_twice_is_refused_the_second_time_and_says_so(p):
    need = in_progress(p)
    client = zh(p.w.partner_user)
    path = reverse("partners:resolve", args=[need.pk])
    client.post(path, {"resolution": "轮椅已送到老人家中。", "photos": [jpeg()]})
    r = client.post(path, {"resolution": "轮椅已送到老人家中。", "photos": [jpeg()]}, follow=True)
    assert r.status_code == 200
    assert "不能进行“已办结”操作" in r.content.decode()
    assert NeedPhoto.objects.filter(need=need).count() == 1
    assert need.events.filter(kind=NeedEvent.Kind.RESOLVED).count() == 1
