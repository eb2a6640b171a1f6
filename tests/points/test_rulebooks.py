"""Versioned rule books (issue 15): a community's rules belong to a version of its rule book,
adopted by a meeting from a date; a claim is made under the version in force on its date; an
adopted version never changes (a change is a new version); the admin compares versions side
by side; the API reads them; migration 0010 made the rules in use version 1.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone, translation

from points.models import Account, Claim, Rule, RuleBook
from points.selectors import claims as claims_selectors
from points.selectors import rulebooks as selectors
from points.services import claims as claims_services
from points.services import rulebooks as rulebooks
from tests import factories as f
from tests.api_helpers import client, in_savepoint, token_client, url

TODAY = timezone.localdate()
# The day v2 takes effect in these tests: recent, so claims before and after it are allowed.
SWITCH = TODAY - dt.timedelta(days=20)
BEFORE, AFTER = SWITCH - dt.timedelta(days=3), SWITCH + dt.timedelta(days=3)
V1_FROM = dt.date(2024, 1, 1)
BOOK_PERMS = ("view_rulebook", "add_rulebook", "change_rulebook", "delete_rulebook")
RULE_PERMS = ("view_rule", "add_rule", "change_rule", "delete_rule")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def english() -> Any:
    """Services speak English here unless a test asks for Chinese (the default is zh-hans)."""
    with translation.override("en"):
        yield


def add_rule(user: Any, book: RuleBook, code: str, category: str, points: int, **kw: Any) -> Rule:
    rule = Rule(
        community_id=book.community_id,
        street_id=book.street_id,
        book=book,
        code=code,
        name=kw.pop("name", code),
        category=category,
        points=points,
        **kw,
    )
    return rulebooks.save_rule(user=user, rule=rule)


def adopt(book: RuleBook, by: Any, effective_from: dt.date, **kw: Any) -> RuleBook:
    kw.setdefault("adopted_on", min(effective_from, TODAY))
    kw.setdefault("adopted_by", "村民代表大会")
    return rulebooks.adopt(draft=book, effective_from=effective_from, by=by, **kw)


@pytest.fixture
def v1(world: Any) -> RuleBook:
    """新庄赵村's v1, adopted from 2024-01-01: clean +1, hazard +2, idea ≤10, fine -5."""
    book = rulebooks.start_book(user=world.committee1, community=world.community1)
    add_rule(world.committee1, book, "clean", "reward", 1, name="清扫责任区")
    add_rule(world.committee1, book, "hazard", "reward", 2, name="报告安全隐患")
    add_rule(world.committee1, book, "idea", "reward", 10, up_to=True, name="合理化建议")
    add_rule(world.committee1, book, "fine", "deduction", 5, name="违反村规民约")
    return adopt(book, world.committee1, V1_FROM, adopted_on=dt.date(2023, 12, 20))


@pytest.fixture
def v2_draft(world: Any, v1: RuleBook) -> RuleBook:
    """v2 as a draft: clean +1 → +2, fine removed, trash (+1) added."""
    draft = rulebooks.new_version(book=v1, by=world.committee1)
    clean = draft.rules.get(code="clean")
    clean.points = 2
    rulebooks.save_rule(user=world.committee1, rule=clean)
    claims_services.delete_rule(user=world.committee1, rule=draft.rules.get(code="fine"))
    add_rule(world.committee1, draft, "trash", "reward", 1, name="垃圾分类")
    return draft


@pytest.fixture
def v2(world: Any, v2_draft: RuleBook) -> RuleBook:
    return adopt(v2_draft, world.committee1, SWITCH)


def claim(world: Any, rule: Rule, day: dt.date, **kw: Any) -> Claim:
    return claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rule, occurred_on=day, **kw
    )


def balance(resident: Any) -> int:
    account = Account.objects.filter(resident=resident).first()
    return account.balance if account else 0


# ============================================================================ versions


def test_new_version_copies_every_rule_into_the_next_draft(world, v1):
    draft = rulebooks.new_version(book=v1, by=world.committee1)
    assert (draft.version, draft.status, draft.community_id) == (2, "draft", world.community1.pk)
    assert draft.effective_from > TODAY  # planned for later; set for good at adoption
    fields = ("code", "name", "category", "points", "up_to", "cap_per_quarter", "active")
    assert sorted(draft.rules.values_list(*fields)) == sorted(v1.rules.values_list(*fields))
    assert not set(draft.rules.values_list("pk", flat=True)) & set(
        v1.rules.values_list("pk", flat=True)
    )


def test_one_draft_at_a_time(world, v2_draft):
    with pytest.raises(ValidationError, match="draft already"):
        rulebooks.new_version(book=v2_draft, by=world.committee1)


def test_adopting_ends_the_version_before_the_day_before(world, v1, v2):
    v1.refresh_from_db()
    assert v1.effective_to == SWITCH - dt.timedelta(days=1)
    assert (v2.status, v2.effective_from, v2.effective_to) == ("adopted", SWITCH, None)
    assert v2.adopted_by == "村民代表大会"
    assert rulebooks.book_in_force(world.community1, BEFORE) == v1
    assert rulebooks.book_in_force(world.community1, AFTER) == v2
    assert rulebooks.book_in_force(world.community1, dt.date(2023, 6, 1)) is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"effective_from": V1_FROM}, "effective_from"),  # not after v1's start
        ({"effective_from": V1_FROM - dt.timedelta(days=9)}, "effective_from"),
        ({"adopted_on": TODAY + dt.timedelta(days=1)}, "adopted_on"),  # a meeting to come
        ({"adopted_on": SWITCH + dt.timedelta(days=1)}, "effective_from"),  # before the meeting
        ({"adopted_by": ""}, "adopted_by"),  # which meeting?
        ({"adopted_on": None}, "adopted_on"),
    ],
)
def test_adoption_is_refused_without_a_sound_record(world, v1, v2_draft, change, field):
    kw = {"adopted_on": SWITCH, "adopted_by": "村民代表大会", "effective_from": SWITCH, **change}
    with pytest.raises(ValidationError) as refused:
        rulebooks.adopt(draft=v2_draft, by=world.committee1, **kw)
    assert field in refused.value.message_dict
    v2_draft.refresh_from_db()
    v1.refresh_from_db()
    assert (v2_draft.status, v1.effective_to) == ("draft", None)


def test_a_council_meeting_of_the_community_may_stand_for_the_meeting(world, v1, v2_draft):
    council = f.CouncilFactory(community=world.community1, held_on=SWITCH - dt.timedelta(days=2))
    elsewhere = f.CouncilFactory(community=world.community3, held_on=SWITCH)
    with pytest.raises(ValidationError) as refused:
        rulebooks.adopt(
            draft=v2_draft, by=world.committee1, adopted_on=SWITCH, council=elsewhere,
            effective_from=SWITCH,
        )  # fmt: skip
    assert "council" in refused.value.message_dict
    book = rulebooks.adopt(
        draft=v2_draft, by=world.committee1, adopted_on=None, council=council,
        effective_from=SWITCH,
    )  # fmt: skip
    assert (book.adopted_on, book.council, book.adopted_by) == (council.held_on, council, "")


def test_a_new_version_cannot_take_effect_under_claims_already_made(world, v1, v2_draft):
    made = claim(world, v1.rules.get(code="clean"), AFTER)
    with pytest.raises(ValidationError) as refused:
        adopt(v2_draft, world.committee1, SWITCH)
    message = " ".join(refused.value.message_dict["effective_from"])
    assert AFTER.isoformat() in message and (AFTER + dt.timedelta(days=1)).isoformat() in message
    # Rejected, the claim no longer stands in the way.
    claims_services.reject_claim(claim=made, approver=world.committee1, reason="日期有误")
    assert adopt(v2_draft, world.committee1, SWITCH).status == "adopted"


def test_only_the_communitys_committee_or_street_keeps_its_book(world, v1):
    from django.core.exceptions import PermissionDenied

    for outsider in (world.committee3, world.admin2, world.worker1.user):
        with pytest.raises(PermissionDenied):
            rulebooks.new_version(book=v1, by=outsider)
    assert rulebooks.new_version(book=v1, by=world.admin1).version == 2


# ============================================================================ claims


def test_a_claim_uses_the_rule_of_the_version_in_force_on_its_date(world, v1, v2):
    v1_clean, v2_clean = v1.rules.get(code="clean"), v2.rules.get(code="clean")
    # The field app sends whichever version's id it cached: the date decides.
    before = claim(world, v2_clean, BEFORE)
    after = claim(world, v1_clean, AFTER)
    assert (before.rule, before.points) == (v1_clean, 1)
    assert (after.rule, after.points) == (v2_clean, 2)
    for made in (before, after):
        claims_services.approve_claim(claim=made, approver=world.committee1)
    assert balance(world.resident1) == 3


def test_the_points_are_checked_against_the_version_in_force(world, v1, v2):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        claim(world, v1.rules.get(code="clean"), AFTER, points=1)  # v1's points, v2's day
    assert "exactly 2" in " ".join(refused.value.message_dict["points"])


def test_a_rule_the_version_in_force_lacks_is_refused_on_the_rule_field(world, v1, v2):
    fine = v1.rules.get(code="fine")
    assert claim(world, fine, BEFORE).rule == fine
    with pytest.raises(ValidationError) as refused:
        claim(world, fine, AFTER)
    assert "rule" in refused.value.message_dict
    body = {"resident": world.resident1.id, "rule": fine.id, "occurred_on": AFTER.isoformat()}
    r = client(world.worker1).post(url("point-claims"), body, format="json", **ZH)
    assert r.status_code == 400 and "rule" in r.json(), r.content
    assert "积分细则" in r.json()["rule"][0]


def test_a_rule_deactivated_in_the_version_in_force_is_refused(world, v1, v2_draft):
    hazard = v2_draft.rules.get(code="hazard")
    hazard.active = False
    rulebooks.save_rule(user=world.committee1, rule=hazard)
    adopt(v2_draft, world.committee1, SWITCH)
    assert claim(world, v1.rules.get(code="hazard"), BEFORE).points == 2
    with pytest.raises(ValidationError, match="not active"):
        claim(world, v1.rules.get(code="hazard"), AFTER)


def test_a_drafts_rule_is_not_in_force(world, v1, v2_draft):
    made = claim(world, v2_draft.rules.get(code="clean"), TODAY)
    assert made.rule == v1.rules.get(code="clean")  # the adopted version's, +1
    with pytest.raises(ValidationError) as refused:
        claim(world, v2_draft.rules.get(code="trash"), TODAY)  # only in the draft
    assert "rule" in refused.value.message_dict


def test_before_the_first_version_the_unversioned_rules_apply(world):
    old = Rule.objects.create(
        community=world.community1, code="clean", name="清扫", category="reward", points=1
    )
    draft = rulebooks.start_book(user=world.committee1, community=world.community1)
    copy = draft.rules.get(code="clean")
    copy.points = 3
    rulebooks.save_rule(user=world.committee1, rule=copy)
    assert claim(world, old, BEFORE).rule == old  # the draft is not in force yet
    adopt(draft, world.committee1, SWITCH)
    assert claim(world, old, AFTER).rule == copy
    assert claim(world, copy, BEFORE - dt.timedelta(days=1)).rule == old


def test_volunteer_hours_are_claimed_under_the_version_in_force(world, v1, v2):
    made = claims_services.submit_hours_claim(
        user=world.committee1,
        resident=world.resident1,
        rule=v1.rules.get(code="clean"),
        points=4,
        occurred_on=AFTER,
    )
    assert made is not None and made.rule == v2.rules.get(code="clean")


def test_rule_lists_show_the_version_in_force_once(world, v1, v2):
    in_force = claims_selectors.community_rules(community_id=world.community1.pk)
    assert {r.book_id for r in in_force} == {v2.pk}
    assert sorted(r.code for r in in_force) == ["clean", "hazard", "idea", "trash"]
    before = Rule.objects.filter(selectors.in_force_q(BEFORE), community=world.community1)
    assert {r.book_id for r in before} == {v1.pk}


# ============================================================================ history never changes


def test_a_rule_of_an_adopted_version_cannot_be_changed_or_deleted(world, v1):
    rule = v1.rules.get(code="clean")
    rule.points = 5
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        rulebooks.save_rule(user=world.committee1, rule=rule)
    assert "新建版本" in " ".join(refused.value.messages)
    with pytest.raises(ValidationError, match="new version"):
        rule.save()  # the model refuses too, whoever calls it
    rule.refresh_from_db()
    rule.active = False  # deactivating is a change too
    with pytest.raises(ValidationError):
        rule.save()
    with pytest.raises(ValidationError):
        claims_services.delete_rule(user=world.admin1, rule=rule)
    with pytest.raises(ValidationError):  # nor is a rule added to an adopted version
        add_rule(world.committee1, v1, "new", "reward", 1)
    rule.refresh_from_db()
    assert (rule.points, rule.active, v1.rules.count()) == (1, True, 4)


@pytest.mark.postgres
def test_the_database_refuses_to_change_an_adopted_version(world, v1):
    rule = v1.rules.get(code="clean")
    rules, books = Rule.objects.filter(pk=rule.pk), RuleBook.objects.filter(pk=v1.pk)
    for refused in (
        lambda: rules.update(points=9),
        lambda: rules.delete(),
        lambda: Rule.objects.bulk_create([Rule(community=world.community1, book=v1, code="x",
                                               name="x", category="reward", points=1)]),
        lambda: books.update(status="draft"),
        lambda: books.update(effective_from=dt.date(2025, 1, 1)),
    ):  # fmt: skip
        with pytest.raises(DatabaseError), transaction.atomic():
            refused()
    # The approval record may be completed.
    RuleBook.objects.filter(pk=v1.pk).update(adopted_by="村民代表大会（补录）")


def test_the_api_refuses_to_change_or_delete_an_adopted_versions_rule(world, v1):
    rule = v1.rules.get(code="clean")
    r = client(world.committee1).patch(
        url("point-rules", rule.id), {"points": 3}, format="json", **ZH
    )
    assert r.status_code == 400 and "新建版本" in r.json()["book"][0], r.content
    r = client(world.committee1).patch(
        url("point-rules", rule.id), {"active": False}, format="json"
    )
    assert r.status_code == 400
    r = client(world.admin1).delete(url("point-rules", rule.id), **ZH)
    assert r.status_code == 400 and "新建版本" in str(r.json())
    rule.refresh_from_db()
    assert (rule.points, rule.active) == (1, True)


def test_a_rule_added_through_the_api_goes_to_the_draft_or_is_refused(world, v1):
    body = {"code": "new", "name": "参加志愿服务", "category": "reward", "points": 2,
            "community": world.community1.id}  # fmt: skip
    r = client(world.committee1).post(url("point-rules"), body, format="json", **ZH)
    assert r.status_code == 400 and "新建版本" in r.json()["book"][0]
    r = client(world.committee1).post(url("point-rules"), {**body, "book": v1.id}, format="json")
    assert r.status_code == 400 and "book" in r.json()
    draft = rulebooks.new_version(book=v1, by=world.committee1)
    r = client(world.committee1).post(url("point-rules"), body, format="json")
    assert r.status_code == 201, r.content
    assert (r.json()["book"], r.json()["version"]) == (draft.id, 2)
    # The draft's rules change freely, until it is adopted.
    r = client(world.committee1).patch(url("point-rules", r.json()["id"]), {"points": 3},
                                       format="json")  # fmt: skip
    assert r.status_code == 200
    assert client(world.committee1).post(url("point-rules"), {**body, "code": "clean"},
                                         format="json").status_code == 400  # fmt: skip


def test_the_rules_endpoint_names_each_rules_book_and_version(world, v1, v2):
    r = client(world.committee1).get(url("point-rules"), {"in_force_on": BEFORE.isoformat()})
    assert r.status_code == 200
    rows = r.json()["results"]
    assert {(row["book"], row["version"]) for row in rows} == {(v1.id, 1)}
    r = client(world.committee1).get(url("point-rules"), {"book": v2.id})
    assert {row["code"] for row in r.json()["results"]} == {"clean", "hazard", "idea", "trash"}


# ============================================================================ the admin


def test_the_admin_shows_an_adopted_versions_rule_read_only_and_refuses_a_post(
    world, v1, staff_client
):
    rule = v1.rules.get(code="clean")
    client_ = staff_client(world.committee1, *RULE_PERMS, *BOOK_PERMS)
    page = url_rule = reverse("admin:points_rule_change", args=[rule.pk])
    response = client_.get(page)
    assert response.status_code == 200 and not response.context["has_change_permission"]
    data = {"community": world.community1.pk, "code": "clean", "name": "x", "category": "reward",
            "points": 7, "active": "on"}  # fmt: skip
    response = client_.post(url_rule, data, follow=True)
    messages = " ".join(str(m) for m in response.context["messages"])
    assert "new version" in messages
    response = client_.post(reverse("admin:points_rule_delete", args=[rule.pk]), {"post": "yes"},
                            follow=True)  # fmt: skip
    assert "new version" in " ".join(str(m) for m in response.context["messages"])
    rule.refresh_from_db()
    assert (rule.points, rule.name) == (1, "清扫责任区")


def test_a_rule_added_in_the_admin_goes_to_the_draft_or_is_refused(world, v1, staff_client):
    client_ = staff_client(world.committee1, *RULE_PERMS, *BOOK_PERMS)
    data = {"community": world.community1.pk, "code": "new", "name": "新细则", "category": "reward",
            "points": 2, "active": "on"}  # fmt: skip
    response = client_.post(reverse("admin:points_rule_add"), data)
    assert response.status_code == 200 and "Make a new version" in response.content.decode()
    draft = rulebooks.new_version(book=v1, by=world.committee1)
    assert client_.post(reverse("admin:points_rule_add"), data).status_code == 302
    assert Rule.objects.get(code="new").book == draft


def test_the_admin_makes_a_new_version_edits_it_and_adopts_it(world, v1, staff_client):
    client_ = staff_client(world.committee1, *RULE_PERMS, *BOOK_PERMS)
    response = client_.post(reverse("admin:points_rulebook_new_version", args=[v1.pk]))
    draft = RuleBook.objects.get(community=world.community1, version=2)
    assert response.status_code == 302 and response.url.endswith(f"/{draft.pk}/change/")
    page = client_.get(reverse("admin:points_rulebook_change", args=[draft.pk]))
    formset = next(fs for fs in page.context["inline_admin_formsets"])
    assert formset.has_change_permission  # a draft's rules are edited in place
    adopt_url = reverse("admin:points_rulebook_adopt", args=[draft.pk])
    response = client_.post(
        adopt_url,
        {
            "adopted_on": SWITCH.isoformat(), "adopted_by": "村民代表大会",
            "effective_from": SWITCH.isoformat(), "note": "同上",
            "attachment": SimpleUploadedFile("决议.pdf", b"%PDF-1.4 minutes"),
        },
    )  # fmt: skip
    assert response.status_code == 302, response.context["form"].errors
    draft.refresh_from_db()
    assert (draft.status, draft.effective_from) == ("adopted", SWITCH)
    assert (
        client_.get(reverse("admin:points_rulebook_attachment", args=[draft.pk])).status_code == 200
    )
    page = client_.get(reverse("admin:points_rulebook_change", args=[draft.pk]))
    formset = next(fs for fs in page.context["inline_admin_formsets"])
    assert not formset.has_change_permission and not formset.has_add_permission
    # Adopting again is refused with the reason.
    response = client_.post(adopt_url, {"effective_from": TODAY.isoformat()}, follow=True)
    assert "adopted already" in " ".join(str(m) for m in response.context["messages"])


def test_the_admin_refuses_an_adoption_under_claims_already_made(world, v1, v2_draft, staff_client):
    claim(world, v1.rules.get(code="clean"), AFTER)
    client_ = staff_client(world.committee1, *BOOK_PERMS)
    response = client_.post(
        reverse("admin:points_rulebook_adopt", args=[v2_draft.pk]),
        {"adopted_on": SWITCH.isoformat(), "adopted_by": "村民代表大会",
         "effective_from": SWITCH.isoformat()},
    )  # fmt: skip
    assert response.status_code == 200
    assert "effective_from" in response.context["form"].errors


def test_the_compare_view_shows_what_was_added_removed_and_changed(world, v1, v2, staff_client):
    client_ = staff_client(world.committee1, *BOOK_PERMS)
    response = client_.get(reverse("admin:points_rulebook_compare", args=[v2.pk]))
    assert response.status_code == 200
    comparison = response.context["comparison"]
    assert (comparison.old, comparison.new) == (v1, v2)  # by default: the version before
    kinds = {line.code: (line.kind, line.changed) for line in comparison.lines}
    assert kinds == {
        "clean": ("changed", ("points",)),
        "fine": ("removed", ()),
        "trash": ("added", ()),
        "hazard": ("same", ()),
        "idea": ("same", ()),
    }
    html = response.content.decode()
    assert 'data-code="trash" data-kind="added"' in html
    assert 'data-code="fine" data-kind="removed"' in html
    assert 'data-changed="points"' in html and "differs" in html
    # The change page links to it and sums it up.
    page = client_.get(reverse("admin:points_rulebook_change", args=[v2.pk])).content.decode()
    assert reverse("admin:points_rulebook_compare", args=[v2.pk]) in page
    assert "1 added, 1 removed, 1 changed" in page
    # Any other version of the same book may be chosen; v1 has none before it.
    response = client_.get(reverse("admin:points_rulebook_compare", args=[v1.pk]), {"other": v2.pk})
    assert response.context["comparison"].new == v2
    assert (
        client_.get(reverse("admin:points_rulebook_compare", args=[v1.pk])).context["comparison"]
        is None
    )


def test_the_admin_list_of_versions_is_scoped(world, v1, staff_client):
    elsewhere = rulebooks.start_book(user=world.committee3, community=world.community3)
    street_book = rulebooks.start_book(user=world.admin1, street=world.street1)
    changelist = reverse("admin:points_rulebook_changelist")
    mine = staff_client(world.committee1, *BOOK_PERMS).get(changelist).context["cl"].result_list
    assert set(mine) == {v1}
    street = staff_client(world.admin1, *BOOK_PERMS).get(changelist).context["cl"].result_list
    assert set(street) == {v1, street_book}
    client3 = staff_client(world.committee3, *BOOK_PERMS)
    assert set(client3.get(changelist).context["cl"].result_list) == {elsewhere}
    for name in ("change", "compare"):
        page = reverse(f"admin:points_rulebook_{name}", args=[v1.pk])
        assert client3.get(page).status_code in (302, 404)  # not in their queryset
    assert (
        client3.post(reverse("admin:points_rulebook_new_version", args=[v1.pk])).status_code == 404
    )
    assert RuleBook.objects.filter(community=world.community1).count() == 1


def test_every_rulebook_admin_page_loads(world, v1, v2, staff_client):
    client_ = staff_client(world.superuser)
    for page in (
        reverse("admin:points_rulebook_changelist"),
        reverse("admin:points_rulebook_changelist") + "?in_force=today",
        reverse("admin:points_rulebook_add"),
        reverse("admin:points_rulebook_change", args=[v1.pk]),
        reverse("admin:points_rulebook_change", args=[v2.pk]),
        reverse("admin:points_rulebook_compare", args=[v2.pk]),
        reverse("admin:points_rule_changelist") + "?version=in_force",
    ):
        assert client_.get(page).status_code == 200, page


def test_a_committee_starts_the_first_version_from_its_rules(world, staff_client):
    Rule.objects.create(community=world.community2, code="c", name="清扫", category="reward",
                        points=1)  # fmt: skip
    committee2 = f.committee_member(world.community2, "committee2").user
    client_ = staff_client(committee2, *BOOK_PERMS)
    response = client_.post(
        reverse("admin:points_rulebook_add"), {"community": world.community2.pk}
    )
    book = RuleBook.objects.get(community=world.community2)
    assert response.status_code == 302
    assert (book.version, book.status, list(book.rules.values_list("code", flat=True))) == (
        1, "draft", ["c"],
    )  # fmt: skip
    assert book.title == "泰山社区积分细则"


def test_copying_the_street_book_into_a_community_with_an_adopted_book_makes_a_draft(world, v1):
    street_book = rulebooks.start_book(user=world.admin1, street=world.street1)
    add_rule(world.admin1, street_book, "clean", "reward", 1)
    add_rule(world.admin1, street_book, "street", "reward", 3)
    adopt(street_book, world.admin1, V1_FROM)
    assert claims_services.copy_default_rules(community=world.community1) == 1  # "street"
    draft = RuleBook.objects.get(community=world.community1, status="draft")
    assert draft.rules.filter(code="street").exists() and draft.version == 2
    assert claims_services.copy_default_rules(community=world.community1) == 0
    assert RuleBook.objects.filter(community=world.community1).count() == 2


# ============================================================================ the API


def test_the_api_lists_the_versions_with_their_rules_and_record(world, v1, v2):
    v2.attachment = SimpleUploadedFile("决议.pdf", b"%PDF-1.4")
    rulebooks.save_record(book=v2, by=world.committee1, changed=["attachment"])
    r = client(world.committee1).get(url("point-rule-books"))
    assert r.status_code == 200
    rows = {row["version"]: row for row in r.json()["results"]}
    assert set(rows) == {1, 2}
    assert rows[1]["effective_to"] == (SWITCH - dt.timedelta(days=1)).isoformat()
    assert (rows[2]["adopted_by"], rows[2]["in_force_today"]) == ("村民代表大会", True)
    assert {rule["code"] for rule in rows[2]["rules"]} == {"clean", "hazard", "idea", "trash"}
    assert rows[1]["attachment_url"] is None
    attachment = client(world.committee1).get(rows[2]["attachment_url"])
    assert attachment.status_code == 200 and b"".join(attachment.streaming_content) == b"%PDF-1.4"
    r = client(world.committee1).get(url("point-rule-books"), {"in_force_on": BEFORE.isoformat()})
    assert [row["version"] for row in r.json()["results"]] == [1]


def test_the_api_is_read_only_and_scoped(world, v1):
    assert client(world.committee3).get(url("point-rule-books", v1.id)).status_code == 404
    assert client(world.committee3).get(url("point-rule-books")).json()["results"] == []
    assert client(world.worker1).get(url("point-rule-books", v1.id)).status_code == 200
    assert client(world.resident_user).get(url("point-rule-books")).status_code == 403
    assert client(world.stranger).get(url("point-rule-books")).status_code == 403
    r = client(world.committee1).post(url("point-rule-books"), {"title": "x"}, format="json")
    assert r.status_code == 405
    street_book = rulebooks.start_book(user=world.admin1, street=world.street1)
    assert client(world.admin1).get(url("point-rule-books", street_book.id)).status_code == 200
    assert client(world.admin2).get(url("point-rule-books", street_book.id)).status_code == 404


def test_the_rule_books_are_in_the_openapi_schema(db):
    r = client(None).get("/api/schema/", {"format": "json"})
    schema = r.json()
    assert "get" in schema["paths"]["/api/v1/point-rule-books/"]
    assert "get" in schema["paths"]["/api/v1/point-rule-books/{id}/attachment/"]
    book = schema["components"]["schemas"]["RuleBook"]["properties"]
    assert {"version", "adopted_on", "effective_from", "effective_to", "rules"} <= set(book)
    rule = schema["components"]["schemas"]["Rule"]["properties"]
    assert {"book", "version"} <= set(rule)
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)


# ============================================================================ migration 0010


def test_the_migration_makes_the_rules_in_use_version_one(world):
    migration = __import__("points.migrations.0010_rule_books", fromlist=["create_first_versions"])
    clean = Rule.objects.create(community=world.community1, code="clean", name="清扫",
                                category="reward", points=1)  # fmt: skip
    fine = Rule.objects.create(community=world.community1, code="fine", name="罚",
                               category="deduction", points=5)  # fmt: skip
    default = Rule.objects.create(street=world.street1, code="d", name="默认", category="reward",
                                  points=1)  # fmt: skip
    made = claim(world, clean, BEFORE)
    # A community that has a book already is left alone.
    own = rulebooks.start_book(user=world.committee3, community=world.community3)

    migration.create_first_versions(apps, SimpleNamespace(connection=connection))

    book = RuleBook.objects.get(community=world.community1)
    assert (book.version, book.status, book.title) == (1, "adopted", "新庄赵村积分细则")
    assert book.effective_from == book.adopted_on == dt.date(2000, 1, 1)
    assert book.effective_to is None and "补录" in book.note
    assert set(book.rules.all()) == {clean, fine}
    street = RuleBook.objects.get(street=world.street1)
    assert (street.status, list(street.rules.all())) == ("adopted", [default])
    assert list(RuleBook.objects.filter(community=world.community3)) == [own]
    # Claims already made fall under v1, and the next version may take effect any day after.
    assert rulebooks.book_in_force(world.community1, made.occurred_on) == book
    assert claim(world, clean, TODAY).rule == clean
    # Twice: nothing more.
    migration.create_first_versions(apps, SimpleNamespace(connection=connection))
    assert RuleBook.objects.count() == 3


JUNK = ["abc", "-1", "0", "1.5", "99999999999999999999999999", "", "\x00", "2026-13-45", "x" * 3000]


@pytest.mark.parametrize("endpoint", ["point-rule-books", "point-rules"])
def test_junk_query_parameters_never_give_a_500(world, v1, endpoint):
    from django.urls import resolve

    c = client(world.superuser)
    view = resolve(url(endpoint)).func.cls
    names = [*view.filterset_class.base_filters, "page", "page_size", "ordering", "search"]
    for value in JUNK:
        for name in names:
            r = in_savepoint(lambda name=name, value=value: c.get(url(endpoint), {name: value}))
            assert r.status_code in (200, 400, 404), (name, value, r.content[:200])
            assert r["Content-Type"].startswith("application/json")


def test_the_versions_list_runs_the_same_queries_for_few_and_many_versions(world, v1):
    from django.test.utils import CaptureQueriesContext

    c = token_client(world.committee1)

    def add(k: int) -> None:
        for _ in range(k):
            latest = RuleBook.objects.filter(community=world.community1).order_by("-version")[0]
            draft = rulebooks.new_version(book=latest, by=world.committee1)
            adopt(draft, world.committee1, latest.effective_from + dt.timedelta(days=1))

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = c.get(url("point-rule-books"), {"page_size": 100})
        assert r.status_code == 200
        return len(ctx.captured_queries), len(r.json()["results"])

    add(1)
    c.get(url("point-rule-books"))  # warm the per-process caches
    few = count()
    add(6)
    many = count()
    assert (few[1], many[1]) == (2, 8)
    assert few[0] == many[0], (few, many)


def change_form_data(response: Any) -> dict[str, Any]:
    """The POST a browser sends back from an admin change page, unchanged."""

    def put(data: dict[str, Any], key: str, value: Any) -> None:
        if value is None or value is False or hasattr(value, "storage"):
            return
        if value is True:
            value = "on"
        data[key] = getattr(value, "pk", value)

    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        put(data, name, form.initial.get(name, field.initial))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            put(data, f"{formset.prefix}-{name}", value)
        for sub in formset.forms:
            for name in sub.fields:
                value = sub.initial.get(name)
                if name == "id":
                    value = sub.instance.pk
                elif name == formset.fk.name:
                    value = formset.instance.pk
                put(data, f"{sub.prefix}-{name}", value)
    return data


def test_the_approval_record_of_an_adopted_version_may_be_completed(world, v1, staff_client):
    client_ = staff_client(world.committee1, *BOOK_PERMS, *RULE_PERMS)
    page = reverse("admin:points_rulebook_change", args=[v1.pk])
    response = client_.get(page)
    form = response.context["adminform"].form
    assert "effective_from" not in form.fields and "adopted_by" in form.fields
    data = {**change_form_data(response), "adopted_by": "村民代表大会（第三次）"}
    response = client_.post(page, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    v1.refresh_from_db()
    assert (v1.adopted_by, v1.effective_from, v1.rules.count()) == (
        "村民代表大会（第三次）",
        V1_FROM,
        4,
    )
    # The meeting cannot be moved after the day the version took effect.
    data["adopted_on"] = (V1_FROM + dt.timedelta(days=1)).isoformat()
    assert client_.post(page, data).status_code == 200


def test_a_drafts_rules_are_changed_on_its_page(world, v2_draft, staff_client):
    client_ = staff_client(world.committee1, *BOOK_PERMS, *RULE_PERMS)
    page = reverse("admin:points_rulebook_change", args=[v2_draft.pk])
    response = client_.get(page)
    data = change_form_data(response)
    formset = response.context["inline_admin_formsets"][0].formset
    clean = next(f for f in formset.forms if f.initial.get("code") == "clean")
    data[f"{clean.prefix}-points"] = 3
    total = f"{formset.prefix}-TOTAL_FORMS"
    new = f"{formset.prefix}-{data[total]}"
    data[total] = int(data[total]) + 1
    data.update({f"{new}-code": "walk", f"{new}-name": "陪老人散步", f"{new}-category": "reward",
                 f"{new}-points": 1, f"{new}-active": "on"})  # fmt: skip
    response = client_.post(page, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    rules = {r.code: r for r in v2_draft.rules.all()}
    assert rules["clean"].points == 3 and rules["walk"].community_id == world.community1.pk
    # The same code twice in one version is refused.
    response = client_.post(page, {**data, f"{new}-code": "clean"})
    assert response.status_code == 200


def test_the_rule_book_pages_speak_chinese(world, v1, v2, staff_client):
    client_ = staff_client(world.committee1, *BOOK_PERMS)
    zh = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
    page = client_.get(reverse("admin:points_rulebook_compare", args=[v2.pk]), **zh)
    html = page.content.decode()
    assert "版本对比" in html and "新增1条" in html and "删除1条" in html and "修改1条" in html
    page = client_.get(reverse("admin:points_rulebook_change", args=[v2.pk]), **zh)
    html = page.content.decode()
    assert "以此为基础新建版本" in html and "与第1版相比：新增1条，删除1条，修改1条。" in html
    listing = client_.get(reverse("admin:points_rulebook_changelist"), **zh).content.decode()
    assert "积分细则版本" in listing and "已通过" in listing


def test_a_draft_is_deleted_with_its_rules_and_an_adopted_version_never(
    world, v1, v2_draft, staff_client
):
    client_ = staff_client(world.committee1, *BOOK_PERMS, *RULE_PERMS)
    delete = "admin:points_rulebook_delete"
    response = client_.post(reverse(delete, args=[v1.pk]), {"post": "yes"}, follow=True)
    assert "kept for good" in " ".join(str(m) for m in response.context["messages"])
    team = f.VolunteerTeamFactory(
        community=world.community1, hours_rule=v2_draft.rules.get(code="hazard")
    )
    response = client_.post(reverse(delete, args=[v2_draft.pk]), {"post": "yes"}, follow=True)
    assert "still referred to" in " ".join(str(m) for m in response.context["messages"])
    assert RuleBook.objects.filter(pk=v2_draft.pk).exists()
    team.hours_rule = None
    team.save()
    assert client_.post(reverse(delete, args=[v2_draft.pk]), {"post": "yes"}).status_code == 302
    assert list(RuleBook.objects.filter(community=world.community1)) == [v1]
    assert Rule.objects.filter(community=world.community1).count() == 4
