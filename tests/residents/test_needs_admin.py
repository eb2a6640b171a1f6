"""The needs board in the admin: the list with its filters, recording a need, bulk accept and
bulk assignment with a due date, the read-only timeline, and rectifications accepted.

Staff clients get the needs permissions their role has (core.roles), plus staff status."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from grids.models import CommitteeMember
from residents.models import Need
from residents.services import needs as needs_services
from residents.services import ratings as ratings_services
from tests import factories as f
from tests.residents.needs_helpers import due, need_in, record

COMMITTEE = [
    "view_need", "add_need", "change_need", "accept_need", "assign_need", "view_needevent",
    "view_needphoto", "view_rectification", "accept_rectification", "view_household",
    "view_resident", "view_grid",
]  # fmt: skip


def url(model: str, action: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:residents_{model}_{action}", args=args)


def listed(response: Any) -> list[int]:
    assert response.status_code == 200
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def test_the_board_shows_the_needs_of_the_area_and_filters_the_overdue(world, staff_client):
    late = need_in(world, "assigned")
    Need.objects.filter(pk=late.pk).update(due_on=due(-1))
    fresh = need_in(world, "new")
    elsewhere = needs_services.record_need(
        user=world.worker3.user, title="x", category="other", source="patrol", grid=world.grid3
    )
    c = staff_client(world.committee1, *COMMITTEE)
    assert listed(c.get(url("need"))) == sorted([late.pk, fresh.pk])
    assert listed(c.get(url("need"), {"overdue": "yes"})) == [late.pk]
    assert listed(c.get(url("need"), {"overdue": "no"})) == [fresh.pk]
    assert listed(c.get(url("need"), {"status__exact": "new"})) == [fresh.pk]
    assert listed(c.get(url("need"), {"grid__id__exact": world.grid2.pk})) == []
    assert c.get(url("need", "change", elsewhere.pk)).status_code == 302  # not in the area
    page = c.get(url("need"), {"category__exact": "infrastructure"})
    assert listed(page) == sorted([late.pk, fresh.pk])


def test_the_board_accepts_selected_needs_and_skips_the_others(world, staff_client):
    new = [need_in(world, "new") for _ in range(2)]
    accepted = need_in(world, "accepted")
    c = staff_client(world.committee1, *COMMITTEE)
    r = c.post(
        url("need"),
        {"action": "accept_selected", "_selected_action": [n.pk for n in [*new, accepted]]},
        follow=True,
    )
    texts = [str(m) for m in r.context["messages"]]
    assert "2 needs accepted." in texts
    assert any(t.startswith("1 need skipped") for t in texts)
    assert set(Need.objects.values_list("status", flat=True)) == {"accepted"}


def test_the_board_assigns_selected_needs_after_asking_whom_and_by_when(world, staff_client):
    needs = [need_in(world, "accepted") for _ in range(3)]
    c = staff_client(world.committee1, *COMMITTEE)
    selection = {"action": "assign_selected", "_selected_action": [n.pk for n in needs]}
    page = c.post(url("need"), selection)
    assert page.status_code == 200
    assert "Assign 3 needs" in page.content.decode()
    # The worker choices are of the committee's community only.
    choices = {w.pk for w in page.context["form"].fields["worker"].queryset}
    assert choices == {world.worker1.pk, world.worker2.pk}
    r = c.post(
        url("need"),
        {**selection, "confirm": "yes", "worker": world.worker2.pk, "due_on": due(4).isoformat()},
        follow=True,
    )
    assert "3 needs assigned." in [str(m) for m in r.context["messages"]]
    assert set(Need.objects.values_list("status", "assigned_worker", "due_on")) == {
        ("assigned", world.worker2.pk, due(4))
    }
    # Asking for two assignees at once is sent back with the question again.
    page = c.post(
        url("need"),
        {
            **selection,
            "confirm": "yes",
            "worker": world.worker2.pk,
            "department": "城管",
            "due_on": due(4).isoformat(),
        },
    )
    assert page.status_code == 200 and page.context["form"].errors


def test_the_bulk_steps_are_offered_to_those_with_their_permission(world, staff_client):
    clerk = f.UserFactory(username="clerk")  # a committee seat, but no role group
    CommitteeMember.objects.create(user=clerk, community=world.community1)
    c = staff_client(clerk, "view_need", "accept_need")
    page = c.get(url("need"))
    actions = [name for name, _label in page.context["action_form"].fields["action"].choices]
    assert "accept_selected" in actions and "assign_selected" not in actions
    need = need_in(world, "accepted")
    c.post(url("need"), {"action": "assign_selected", "_selected_action": [need.pk]})
    need.refresh_from_db()
    assert need.status == "accepted"


def test_a_need_is_recorded_on_its_own_form_through_the_service(world, staff_client):
    c = staff_client(world.committee1, *COMMITTEE)
    assert c.get(url("need", "add")).status_code == 200
    r = c.post(
        url("need", "add"),
        {
            "household": world.household1.pk,
            "source": "council",
            "category": "infrastructure",
            "title": "村口路灯不亮",
            "priority": 3,
            "for_council": "on",
        },
    )
    need = Need.objects.get()
    assert r.status_code == 302 and r["Location"] == url("need", "change", need.pk)
    assert (need.grid, need.source, need.for_council, need.reported_by) == (
        world.grid1,
        "council",
        True,
        world.committee1,
    )
    assert need.events.get().kind == "recorded"
    # A household and a grid that disagree: the form says so on the field.
    r = c.post(
        url("need", "add"),
        {
            "grid": world.grid2.pk,
            "household": world.household1.pk,
            "source": "wechat",
            "category": "other",
            "title": "x",
            "priority": 2,
        },
    )
    assert r.status_code == 200 and "household" in r.context["form"].errors
    # A grid outside the area is not a choice.
    r = c.post(
        url("need", "add"),
        {
            "grid": world.grid3.pk,
            "source": "wechat",
            "category": "other",
            "title": "x",
            "priority": 2,
        },
    )
    assert r.status_code == 200 and "grid" in r.context["form"].errors
    assert Need.objects.count() == 1


def test_the_change_page_edits_details_through_the_service_and_shows_the_timeline(
    world, staff_client
):
    need = need_in(world, "assigned")
    c = staff_client(world.committee1, *COMMITTEE)
    page = c.get(url("need", "change", need.pk))
    assert page.status_code == 200
    body = page.content.decode()
    assert "timeline" in body.lower() and "assigned" in body
    form = page.context["adminform"].form
    assert set(form.fields) == set(needs_services.UPDATABLE)
    data = {
        "title": need.title,
        "text": "",
        "category": need.category,
        "priority": 4,
        "project": "",
        "photos-TOTAL_FORMS": 0,
        "photos-INITIAL_FORMS": 0,
        "events-TOTAL_FORMS": 0,
        "events-INITIAL_FORMS": 0,
    }
    r = c.post(url("need", "change", need.pk), data)
    assert r.status_code == 302, r.context["adminform"].form.errors if r.context else r
    need.refresh_from_db()
    assert need.priority == 4
    assert need.events.filter(kind="updated").get().data == {"fields": ["priority"]}
    # A closed need is kept as it was: no change form, and no delete anywhere.
    closed = need_in(world, "closed")
    page = c.get(url("need", "change", closed.pk))
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert c.post(url("need", "delete", need.pk)).status_code == 403


def test_the_committee_accepts_rectifications_reported_done(world, staff_client):
    need = need_in(world, "resolved")
    ratings_services.rate_need(user=world.resident_user, need=need, level=1)
    rectification = need.rectification
    c = staff_client(world.committee1, *COMMITTEE)
    selection = {"action": "accept_selected", "_selected_action": [rectification.pk]}
    r = c.post(url("rectification"), selection, follow=True)
    assert "0 rectifications accepted." in [str(m) for m in r.context["messages"]]
    ratings_services.complete_rectification(
        user=world.worker1.user, rectification=rectification, note="已整改"
    )
    r = c.post(url("rectification"), selection, follow=True)
    assert "1 rectification accepted." in [str(m) for m in r.context["messages"]]
    need.refresh_from_db()
    assert need.status == "closed"
    assert c.get(url("rectification", "add")).status_code == 403


def test_a_partner_unit_is_offered_only_within_its_area(world, staff_client):
    # The record form's grid choices are the user's area.
    c = staff_client(world.worker1, "view_need", "add_need")
    form = c.get(url("need", "add")).context["form"]
    assert set(form.fields["grid"].queryset) == {world.grid1}
    record(world)
    assert listed(c.get(url("need"))) == [Need.objects.get().pk]


def test_a_needs_photo_links_to_the_scoped_route_not_to_the_media_folder(world, staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from residents.models import NeedPhoto

    need = need_in(world, "new")
    photo = NeedPhoto.objects.create(
        need=need,
        image=SimpleUploadedFile("lamp.png", b"not read here", content_type="image/png"),
        uploaded_by=world.worker1.user,
    )
    page = staff_client(world.committee1, *COMMITTEE).get(url("need", "change", need.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"/api/v1/needs/{need.pk}/photos/{photo.pk}/" in html
    assert "/media/" not in html
