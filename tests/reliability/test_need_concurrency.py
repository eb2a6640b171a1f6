"""Needs under real concurrent writers (PostgreSQL, committed transactions, one connection per
thread): of several partner units claiming one micro-wish (接单) at the same moment exactly one
gets it, and of concurrent steps on one need exactly one moves it."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.exceptions import ValidationError

from grids.models import PartnerUnit
from residents.models import NeedEvent
from residents.services import needs as needs_services
from tests import factories as f
from tests.reliability.test_ledger_concurrency import race, user
from tests.residents.needs_helpers import due, need_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

UNITS = 6


def test_of_six_units_claiming_one_micro_wish_exactly_one_gets_it(world):
    contacts = []
    for i in range(UNITS):
        unit = f.PartnerUnitFactory(name=f"共建单位竞{i}")
        unit.agreements.create(community=world.community1, signed_on=dt.date(2025, 1, 1))
        contact = f.UserFactory(username=f"contact{i}", groups=["partner"])
        unit.contacts.add(contact)
        contacts.append(contact.pk)
    wish = need_in(world, "accepted", category="micro_wish")
    needs_services.offer_need(
        user=world.committee1,
        need=wish,
        partner_units=list(PartnerUnit.objects.exclude(pk=world.partner.pk)),
        due_on=due(10),
    )

    results, errors = race(
        lambda i: needs_services.claim_need(user=user(contacts[i]), need=wish), threads=UNITS
    )
    assert len(results) == 1
    assert len(errors) == UNITS - 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    wish.refresh_from_db()
    assert wish.status == "assigned"
    assert list(wish.offered_to.values_list("pk", flat=True)) == [wish.assigned_partner_id]
    assert NeedEvent.objects.filter(need=wish, kind="claimed").count() == 1


def test_concurrent_acceptances_of_one_need_move_it_once(world):
    need = need_in(world, "new")
    people = [world.committee1.pk, world.worker1.user.pk, world.admin1.pk] * 2
    results, errors = race(
        lambda i: needs_services.accept_need(user=user(people[i]), need=need), threads=len(people)
    )
    assert len(results) == 1
    assert all(isinstance(e, ValidationError) for e in errors), errors
    assert NeedEvent.objects.filter(need=need, kind="accepted").count() == 1
