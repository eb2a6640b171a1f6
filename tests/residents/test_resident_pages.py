"""A resident's needs on /me/needs/ (issue 16): report with a photo, follow, rate; and the
grid worker's rating taken by phone (回访) in the API.

Personas from tests/conftest.py: `resident` is 赵爱国 of grid 1 (community 1); worker1 works
grid 1, worker2 grid 2 of the same community; committee1 sits in community 1.
"""

from __future__ import annotations

import io
import os
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from core.idempotency import IdempotencyRecord
from residents.models import Need, NeedEvent, NeedPhoto, Rating
from tests import factories as f
from tests.residents.needs_helpers import need_in, record

pytestmark = pytest.mark.django_db


def chinese(user: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    return client


def jpeg(name: str = "road.jpg", size: tuple[int, int] = (640, 480)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 90, 60)).save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def report(client: Client, **fields: Any) -> Any:
    data = {
        "category": "infrastructure",
        "title": "门前路灯不亮",
        "text": "一组8号门前, 已经三天了",
        "token": "tok-1",
        **fields,
    }
    return client.post("/me/needs/new/", data)


def text_of(response: Any) -> str:
    return response.content.decode()


# ---------------------------------------------------------------------------- reporting


def test_the_report_form_is_a_chinese_multipart_form_with_csrf(world):
    page = text_of(chinese(world.resident_user).get("/me/needs/new/"))
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page
    assert "我要反映" in page and "诉求类别" in page and "提交" in page
    assert 'name="image"' in page and 'accept="image/*"' in page
    assert re.search(r'name="token" value="[0-9a-f]{32}"', page)


def test_a_resident_reports_a_need_with_a_photo(world):
    client = chinese(world.resident_user)
    response = report(client, image=jpeg())
    need = Need.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/me/needs/{need.pk}/"
    assert (need.source, need.grid_id, need.household_id, need.resident_id) == (
        "resident",
        world.grid1.pk,
        world.household1.pk,
        world.resident1.pk,
    )
    assert (need.title, need.category, need.status) == ("门前路灯不亮", "infrastructure", "new")
    photo = NeedPhoto.objects.get(need=need)
    assert photo.uploaded_by == world.resident_user
    assert list(need.events.values_list("kind", flat=True)) == ["recorded", "photo"]
    page = text_of(client.get(response["Location"]))
    assert "诉求已提交" in page and "待受理" in page  # the message and the status, in Chinese
    assert f"/api/v1/needs/{need.pk}/photos/{photo.pk}/" in page
    # The photo is read through the API's scoped route, by the resident too.
    assert client.get(f"/api/v1/needs/{need.pk}/photos/{photo.pk}/").status_code == 200


def test_a_report_without_a_photo_is_fine(world):
    assert report(chinese(world.resident_user)).status_code == 302
    assert Need.objects.count() == 1 and not NeedPhoto.objects.exists()


def test_bad_input_shows_chinese_field_errors_and_keeps_what_was_typed(world):
    response = report(chinese(world.resident_user), category="", title="", text="村口东侧")
    assert response.status_code == 400
    page = text_of(response)
    assert page.count("该字段是必填项。") == 2  # category and title, each under its field
    assert 'id="field-title"' in page and "村口东侧</textarea>" in page
    assert not Need.objects.exists()


def test_a_file_that_is_not_a_picture_is_refused_on_its_field(world):
    fake = SimpleUploadedFile("x.jpg", b"not an image", content_type="image/jpeg")
    response = report(chinese(world.resident_user), image=fake)
    assert response.status_code == 400
    page = text_of(response)
    assert "请上传有效图片" in page  # DRF's ImageField message, as in the API
    assert "门前路灯不亮" in page and "请重新选择照片" in page
    assert not Need.objects.exists()


def test_a_photo_over_the_limit_is_refused_and_the_need_is_not_saved(world, settings):
    settings.NEED_PHOTO_MAX_BYTES = 20_000
    buffer = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(buffer, "JPEG")
    assert len(buffer.getvalue()) > 20_000
    big = SimpleUploadedFile("big.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = report(chinese(world.resident_user), image=big)
    assert response.status_code == 400
    assert "照片超过" in text_of(response)  # add_need_photo's own message, under the field
    assert re.search(r'id="field-image".*?class="field-error"', text_of(response), re.S)
    assert not Need.objects.exists() and not IdempotencyRecord.objects.exists()


def test_the_same_form_sent_twice_reports_once(world):
    client = chinese(world.resident_user)
    assert report(client).status_code == 302
    again = report(client)
    assert again.status_code == 302 and again["Location"] == "/me/needs/"
    assert Need.objects.count() == 1


def test_someone_who_is_not_a_resident_gets_404(world):
    assert chinese(world.worker1.user).get("/me/needs/new/").status_code == 404
    assert report(chinese(world.worker1.user)).status_code == 404
    assert not Need.objects.exists()


def test_the_pages_ask_for_a_login(world):
    response = Client().get("/me/needs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


# ---------------------------------------------------------------------------- following


def neighbour(world: Any) -> Any:
    """Another resident of grid 1, in another household, with a login of their own."""
    household = f.HouseholdFactory(grid=world.grid1, village=True, house_number="9")
    resident = f.ResidentFactory(household=household, name="赵邻居")
    resident.user = f.UserFactory(username="neighbour", groups=["resident"])
    resident.save(update_fields=["user"])
    return resident


def test_a_resident_sees_their_needs_with_chinese_statuses_and_the_timeline(world):
    resolved = need_in(world, "resolved", title="排水沟堵塞")
    new = record(world, title="咨询医保补贴", category=Need.Category.POLICY)
    other = need_in(world, "new", resident=neighbour(world), title="别人的诉求")
    client = chinese(world.resident_user)
    page = text_of(client.get("/me/needs/"))
    assert "排水沟堵塞" in page and "咨询医保补贴" in page and "别人的诉求" not in page
    assert "待您评价" in page and "已办结" in page and "待受理" in page
    assert page.index("排水沟堵塞") < page.index("咨询医保补贴")  # the one to rate first
    detail = text_of(client.get(f"/me/needs/{resolved.pk}/"))
    for step in ("已登记", "已受理", "已交办", "已办结", "已修好"):
        assert step in detail, step
    assert ">new<" not in detail and "worker" not in re.sub(r"<[^>]+>", "", detail)
    assert 'name="level"' in detail  # the rating form
    assert 'name="level"' not in text_of(client.get(f"/me/needs/{new.pk}/"))
    assert client.get(f"/me/needs/{other.pk}/").status_code == 404


# ---------------------------------------------------------------------------- rating


def test_a_resident_rates_a_resolved_need(world):
    need = need_in(world, "resolved")
    client = chinese(world.resident_user)
    response = client.post(f"/me/needs/{need.pk}/rate/", {"level": "4", "comment": "修得很快"})
    assert response.status_code == 302
    rating = Rating.objects.get(need=need)
    assert (rating.level, rating.comment, rating.source, rating.rated_by) == (
        4,
        "修得很快",
        "resident",
        world.resident_user,
    )
    need.refresh_from_db()
    assert need.status == "closed"
    page = text_of(client.get(response["Location"]))
    assert "感谢您的评价" in page and "修得很快" in page and 'name="level"' not in page


def test_a_low_rating_opens_a_rectification(world):
    need = need_in(world, "resolved")
    chinese(world.resident_user).post(f"/me/needs/{need.pk}/rate/", {"level": "1"})
    need.refresh_from_db()
    assert need.status == "resolved" and need.rectification.status == "open"


def test_rating_twice_is_refused(world):
    need = need_in(world, "resolved")
    client = chinese(world.resident_user)
    client.post(f"/me/needs/{need.pk}/rate/", {"level": "2", "comment": "还会积水"})
    again = client.post(f"/me/needs/{need.pk}/rate/", {"level": "5", "comment": "改主意了"})
    assert again.status_code == 400
    assert "已经评价过" in text_of(again) or "已评价" in text_of(again)
    assert Rating.objects.get(need=need).level == 2
    assert NeedEvent.objects.filter(need=need, kind="rated").count() == 1


def test_another_residents_need_cannot_be_rated(world):
    other = neighbour(world)
    need = need_in(world, "resolved", resident=other)
    other_user = other.user
    client = chinese(world.resident_user)
    assert client.get(f"/me/needs/{need.pk}/").status_code == 404
    assert client.post(f"/me/needs/{need.pk}/rate/", {"level": "5"}).status_code == 404
    assert not Rating.objects.exists()
    # Its own resident may.
    assert chinese(other_user).post(f"/me/needs/{need.pk}/rate/", {"level": "5"}).status_code == 302


def test_a_rating_without_a_level_shows_a_chinese_error_and_keeps_the_comment(world):
    need = need_in(world, "resolved")
    response = chinese(world.resident_user).post(
        f"/me/needs/{need.pk}/rate/", {"comment": "路灯修好了"}
    )
    assert response.status_code == 400
    page = text_of(response)
    assert "该字段是必填项。" in page and "路灯修好了</textarea>" in page
    assert not Rating.objects.exists()


def test_a_need_not_yet_resolved_cannot_be_rated(world):
    need = need_in(world, "in_progress")
    response = chinese(world.resident_user).post(f"/me/needs/{need.pk}/rate/", {"level": "5"})
    assert response.status_code == 400
    assert not Rating.objects.exists()


# ---------------------------------------------------------------------------- 回访 (API)


def phone_rate(user: Any, need: Need, **body: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(user=user)
    return client.post(
        f"/api/v1/needs/{need.pk}/phone-rating/", {"level": 3, **body}, format="json"
    )


def test_a_grid_worker_records_a_rating_taken_by_phone(world):
    need = need_in(world, "resolved")
    response = phone_rate(world.worker1.user, need, comment="电话回访: 基本满意")
    assert response.status_code == 200, response.content
    assert response.json()["rating"]["source"] == "phone"
    assert response.json()["rating"]["rated_by"] == world.worker1.user.pk
    rating = Rating.objects.get(need=need)
    assert (rating.source, rating.rated_by, rating.level) == ("phone", world.worker1.user, 3)
    event = NeedEvent.objects.get(need=need, kind="rated")
    assert event.data == {"level": 3, "source": "phone"}
    # The resident sees it, marked as taken by phone, and no form to rate again.
    page = text_of(chinese(world.resident_user).get(f"/me/needs/{need.pk}/"))
    assert "电话回访" in page and 'name="level"' not in page


def test_a_phone_rating_is_refused_outside_the_workers_grid_and_to_residents(world):
    need = need_in(world, "resolved")
    assert phone_rate(world.worker2.user, need).status_code == 404  # not in their grid
    assert phone_rate(world.resident_user, need).status_code == 403  # the resident rates on /me/
    assert phone_rate(world.partner_user, need).status_code in (403, 404)
    assert not Rating.objects.exists()


def test_a_phone_rating_counts_once_like_the_residents_own(world):
    need = need_in(world, "resolved")
    chinese(world.resident_user).post(f"/me/needs/{need.pk}/rate/", {"level": "5"})
    response = phone_rate(world.worker1.user, need)
    assert response.status_code == 400
    assert Rating.objects.get(need=need).source == "resident"


def test_the_phone_rating_action_is_in_the_api_schema(world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=world.superuser)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert "/api/v1/needs/{id}/phone-rating/" in schema
