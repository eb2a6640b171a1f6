"""factory_boy factories. Flow data (claims, entries, visits) goes through services instead."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.validators import make_id_number
from grids.models import (
    CommitteeMember,
    Community,
    Grid,
    GridAssignment,
    GridWorker,
    PartnerUnit,
    Street,
    StreetAdmin,
)
from residents.models import Household, Resident, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def groups(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(*[Group.objects.get(name=name) for name in extracted])
        if create:
            self.save()


class StreetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Street

    name = factory.Sequence(lambda n: f"第{n}街道")
    code = factory.Sequence(lambda n: f"S{n}")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    street = factory.SubFactory(StreetFactory)
    name = factory.Sequence(lambda n: f"第{n}社区")
    code = factory.Sequence(lambda n: f"C{n}")


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community = factory.SubFactory(CommunityFactory)
    code = factory.Sequence(lambda n: f"G{n}")
    name = factory.Sequence(lambda n: f"第{n}网格")


class GridWorkerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridWorker

    user = factory.SubFactory(UserFactory, groups=["grid_worker"])
    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"网格员{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")


class GridAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GridAssignment

    worker = factory.SubFactory(GridWorkerFactory)
    grid = factory.SubFactory(GridFactory)
    start_date = dt.date(2024, 1, 1)


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    grid = factory.SubFactory(GridFactory)
    complex = "黄山小区"
    building = factory.Sequence(lambda n: str(n // 24 + 1))
    unit = "1"
    room = factory.Sequence(lambda n: f"{n % 24 + 101}")

    class Params:
        # A village address: 村民组 and 门牌号 only, no urban parts.
        village = factory.Trait(
            complex="",
            building="",
            unit="",
            room="",
            village_group="一组",
            house_number=factory.Sequence(lambda n: str(n + 1)),
        )


class ResidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resident

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"居民{n}")
    # Wraps every 600 residents (1950–2010), so the date never passes today; with the
    # sequence number wrapping at 499, (date, number) stays unique for 299,400 residents.
    birth_date = factory.Sequence(lambda n: dt.date(1950, 1, 1) + dt.timedelta(days=(n % 600) * 37))
    id_number = factory.LazyAttributeSequence(
        lambda o, n: make_id_number("411103", o.birth_date, 2 * (n % 499) + 1)
    )
    gender = "M"
    phone = factory.Sequence(lambda n: f"138{n:08d}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"标签{n}")


class PartnerUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerUnit

    name = factory.Sequence(lambda n: f"共建单位{n}")


def committee_member(community: Community, username: str) -> CommitteeMember:
    user = UserFactory(username=username, groups=["committee"])
    return CommitteeMember.objects.create(user=user, community=community, title="委员")


def street_admin(street: Street, username: str) -> StreetAdmin:
    user = UserFactory(username=username, groups=["street_admin"])
    return StreetAdmin.objects.create(user=user, street=street)


# ---------------------------------------------------------------------------- volunteers
# (Teams and members only: activities, sign-ups and attendance go through volunteers.services.)


class VolunteerTeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "volunteers.Team"

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"志愿服务队{n}")
    kind = "other"


class VolunteerMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "volunteers.Membership"

    team = factory.SubFactory(VolunteerTeamFactory)
    resident = factory.SubFactory(ResidentFactory)
    joined_on = dt.date(2025, 1, 1)
    role = "member"


# ---------------------------------------------------------------------------- reports
# Ratings, rectifications, visits and council evaluations written as rows, for fixtures
# whose figures are worked out in advance: every date is set by the test, which the services
# (stamping `timezone.now()`) cannot do.


class RatingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "residents.Rating"

    # NeedFactory is defined below, with the needs (residents) factories.
    need = factory.SubFactory("tests.factories.NeedFactory", status="resolved")
    level = 5
    rated_by = factory.SubFactory(UserFactory)


class RectificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "residents.Rectification"

    need = factory.LazyAttribute(lambda o: o.rating.need)
    rating = factory.SubFactory(RatingFactory, level=2)
    status = "open"


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "residents.Visit"

    worker = factory.SubFactory(GridWorkerFactory)
    household = factory.SubFactory(HouseholdFactory)


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "grids.Council"

    community = factory.SubFactory(CommunityFactory)
    held_on = dt.date(2026, 10, 10)
    agenda_cutoff = factory.LazyAttribute(lambda o: o.held_on - dt.timedelta(days=3))
    status = "held"


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "grids.AgendaItem"

    council = factory.SubFactory(CouncilFactory)
    title = factory.Sequence(lambda n: f"议事事项{n}")


class AgendaEvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "grids.AgendaEvaluation"

    item = factory.SubFactory(AgendaItemFactory)
    council = factory.SubFactory(CouncilFactory)
    score = 5
    struck_off = True
    evaluated_by = factory.SubFactory(UserFactory)


# ---------------------------------------------------------------------------- needs (residents)
# Needs in a given state are made by walking the loop through residents.services
# (tests/residents/needs_helpers.py); this factory is for rows in bulk (lists, query counts).


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "residents.Need"

    grid = factory.SubFactory(GridFactory)
    source = "patrol"
    category = "infrastructure"
    title = factory.Sequence(lambda n: f"路灯不亮 {n}")
    reported_by = factory.SubFactory(UserFactory)
