"""Balance by SMS (issue 14): the inbound webhook /sms/inbound/ (points/sms_balance.py).

赵爱国 (world.resident1) has the phone 13912345678 and 8 points; texts come from the provider,
signed with the shared secret; replies land in notifications.sms.outbox (the test backend).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from notifications import sms
from points.models import Rule
from points.services import claims as claims_services
from points.services import ledger as ledger_services
from points.sms_balance import card_number_in, luhn_ok, normalize_phone, signature_for

SECRET = "shared-secret-of-the-provider"
PHONE = "13912345678"
URL = "/sms/inbound/"


@pytest.fixture(autouse=True)
def _inbound_on(settings: Any) -> None:
    settings.SMS_INBOUND_ENABLED = True
    settings.SMS_INBOUND_SECRET = SECRET
    settings.SMS_INBOUND_MAX_PER_HOUR = 5
    settings.SMS_TEMPLATES = {"points_balance": "SMS_900001"}
    sms.outbox.clear()
    cache.clear()


@pytest.fixture
def card(world: Any) -> str:
    world.resident1.phone = PHONE
    world.resident1.save(update_fields=["phone"])
    rule = Rule.objects.create(
        community=world.community1, code="idea", name="建议被采纳", category="reward", points=10,
        up_to=True,
    )  # fmt: skip
    claim = claims_services.submit_claim(
        user=world.worker1.user, resident=world.resident1, rule=rule, points=8
    )
    claims_services.approve_claim(claim=claim, approver=world.committee1)
    return ledger_services.account_for(world.resident1).card_number


def text(phone: str, body: str, *, secret: str = SECRET, message_id: str = "") -> Any:
    payload = json.dumps({"phone": phone, "text": body, "id": message_id}).encode()
    return Client().post(
        URL,
        payload,
        content_type="application/json",
        headers={"X-Signature": signature_for(payload, secret)},
    )


def test_the_residents_own_phone_gets_one_sms_with_the_balance(card):
    response = text(PHONE, f"查询积分 {card}")
    assert response.status_code == 200
    assert response.json() == {"status": "answered"}
    assert (
        sms.outbox
        == [
            {
                "phone": PHONE,
                "template": "SMS_900001",  # the provider's code, from SMS_TEMPLATES
                "params": {
                    "name": "赵*国",
                    "card": card[-4:],
                    "balance": "8",
                    "date": sms.outbox[0]["params"]["date"],
                },
            }
        ]
    )


def test_the_phone_number_may_come_with_the_country_code_and_the_card_with_spaces(card):
    spaced = f"{card[:3]} {card[3:6]}-{card[6:]}"
    assert text("+86 139 1234 5678", spaced).status_code == 200
    assert [m["params"]["balance"] for m in sms.outbox] == ["8"]


def test_another_phone_texting_the_card_number_learns_no_balance(card):
    assert text("13700000000", card).status_code == 200
    assert sms.outbox == [
        {"phone": "13700000000", "template": "points_balance_not_found", "params": {}}
    ]


@pytest.mark.parametrize("body", ["0000000000", "1234567890", "你好", ""])
def test_an_unknown_or_mistyped_card_number_learns_no_balance(card, body):
    assert text(PHONE, body).status_code == 200
    assert [m["template"] for m in sms.outbox] == ["points_balance_not_found"]
    assert "8" not in json.dumps(sms.outbox[0]["params"])


def test_a_mistyped_digit_fails_the_check_digit(card):
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert luhn_ok(card) and not luhn_ok(wrong)
    text(PHONE, wrong)
    assert [m["template"] for m in sms.outbox] == ["points_balance_not_found"]


@pytest.mark.parametrize("signature", ["", "deadbeef", "bad-secret"])
def test_a_text_with_a_bad_signature_is_refused_and_answers_nothing(card, signature):
    payload = json.dumps({"phone": PHONE, "text": card}).encode()
    headers = (
        {"X-Signature": signature}
        if signature != "bad-secret"
        else {"X-Signature": signature_for(payload, "another-secret")}
    )
    response = Client().post(URL, payload, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert sms.outbox == []


def test_a_tampered_body_breaks_the_signature(card):
    payload = json.dumps({"phone": "13700000000", "text": card}).encode()
    signature = signature_for(payload, SECRET)
    tampered = payload.replace(b"13700000000", PHONE.encode())
    response = Client().post(
        URL, tampered, content_type="application/json", headers={"X-Signature": signature}
    )
    assert response.status_code == 403
    assert sms.outbox == []


def test_the_signature_may_carry_a_sha256_prefix(card):
    payload = json.dumps({"phone": PHONE, "text": card}).encode()
    response = Client().post(
        URL,
        payload,
        content_type="application/json",
        headers={"X-Signature": "sha256=" + signature_for(payload, SECRET)},
    )
    assert response.status_code == 200
    assert len(sms.outbox) == 1


def test_a_form_encoded_text_is_understood_too(card):
    payload = f"phone={PHONE}&text={card}".encode()
    response = Client().post(
        URL,
        payload,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Signature": signature_for(payload, SECRET)},
    )
    assert response.status_code == 200
    assert [m["params"].get("balance") for m in sms.outbox] == ["8"]


def test_the_webhook_is_not_found_while_it_is_off(card, settings):
    settings.SMS_INBOUND_ENABLED = False
    assert text(PHONE, card).status_code == 404
    settings.SMS_INBOUND_ENABLED = True
    settings.SMS_INBOUND_SECRET = ""  # on, but no secret to check against: still off
    assert text(PHONE, card, secret="").status_code == 404
    assert sms.outbox == []


def test_the_webhook_is_a_post(card):
    assert Client().get(URL).status_code == 405


def test_replies_to_one_phone_stop_at_the_hourly_limit(card, settings):
    settings.SMS_INBOUND_MAX_PER_HOUR = 2
    statuses = [text(PHONE, card).json()["status"] for _ in range(4)]
    assert statuses == ["answered", "answered", "rate_limited", "rate_limited"]
    assert len(sms.outbox) == 2
    assert text("13700000000", card).json()["status"] == "answered"  # another phone's own count


def test_a_text_delivered_twice_is_answered_once(card):
    assert text(PHONE, card, message_id="m-1").json() == {"status": "answered"}
    assert text(PHONE, card, message_id="m-1").json() == {"status": "duplicate"}
    assert len(sms.outbox) == 1


def test_a_failing_provider_answers_502_so_the_text_is_delivered_again(card, monkeypatch):
    def fail(*args: Any, **kwargs: Any) -> str:
        raise sms.SmsError("provider down")

    monkeypatch.setattr("points.sms_balance.send_sms", fail)
    assert text(PHONE, card, message_id="m-2").status_code == 502
    monkeypatch.undo()
    assert text(PHONE, card, message_id="m-2").json() == {"status": "answered"}


def test_a_body_without_a_phone_is_a_bad_request(card):
    assert text("", card).status_code == 400
    assert sms.outbox == []


def test_the_helpers_read_numbers_as_people_type_them():
    assert normalize_phone("0086-139-1234-5678") == PHONE
    assert normalize_phone("8613912345678") == PHONE
    assert card_number_in("卡号：000 000 0018，谢谢") == "0000000018"
    assert card_number_in("123") == ""
    assert reverse("points:sms_inbound") == URL
