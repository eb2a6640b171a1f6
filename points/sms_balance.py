"""Balance by SMS (短信查积分, issue 14): a resident without a smartphone texts their card
number to the service's number and gets their balance back by SMS.

The SMS provider forwards each inbound text to `POST /sms/inbound/` (the webhook, off unless
SMS_INBOUND_ENABLED). The scheme is provider-neutral; an adapter in front of a provider that
signs otherwise only has to re-sign:

- body: JSON `{"phone": "13800000001", "text": "0000000018", "id": "<provider's message id>"}`
  (or the same three fields form-encoded); `id` is optional and makes a redelivered text
  answered once;
- header `X-Signature`: the lowercase hex HMAC-SHA256 of the raw body with the shared secret
  SMS_INBOUND_SECRET (optionally prefixed `sha256=`), compared in constant time.

Answers: 404 while the webhook is off (or has no secret), 403 for a missing or wrong
signature, 400 for a body without a phone, otherwise 200 (`{"status": …}`), and 502 when the
reply could not be sent (the provider may deliver the text again).

The balance is sent only to the phone number the resident's record holds (a household's card,
以户为单位: any member's, and the name is the household's, 赵*名户): a card number texted from
another phone, an unknown or mistyped number all get the same reply, which says
nothing about any account. Replies per phone number are limited to SMS_INBOUND_MAX_PER_HOUR;
past it the texts are not answered. Replies go through notifications.sms.send_sms with the
templates `points_balance` (params: name, masked; card, its last four digits; balance; date)
and `points_balance_not_found` (no params), mapped to the provider's codes by SMS_TEMPLATES.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.masking import mask_name
from notifications.sms import SmsError, send_sms, template_code_for
from points.models import Account
from points.selectors.claims import household_label
from residents.models import Resident

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
BALANCE_TEMPLATE = "points_balance"
NOT_FOUND_TEMPLATE = "points_balance_not_found"
CARD_RE = re.compile(r"\d{10,}")
MAX_BODY = 4096


def signature_for(body: bytes, secret: str) -> str:
    """The signature a provider (or its adapter) puts in X-Signature for `body`."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, header: str, secret: str) -> bool:
    given = header.strip().removeprefix("sha256=").lower()
    return bool(secret) and hmac.compare_digest(
        given.encode(), signature_for(body, secret).encode()
    )


def luhn_ok(number: str) -> bool:
    """The check digit of a card number (points.services.ledger.card_number_for) holds."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def normalize_phone(phone: str) -> str:
    """Digits only, without China's country code: "+86 138-0000-0001" → "13800000001"."""
    digits = re.sub(r"\D", "", phone or "")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) - len(prefix) == 11:
            return digits[len(prefix) :]
    return digits


def card_number_in(text: str) -> str:
    """The card number at the start of the first run of 10 or more digits of the text, spaces
    and dashes between digits ignored: a household's card (户卡, 11 digits starting with 8,
    points.services.ledger.household_card_number_for) when the first 11 digits are one, else
    the first 10 digits (a resident's card)."""
    found = CARD_RE.search(re.sub(r"(?<=\d)[\s-]+(?=\d)", "", text or ""))
    if not found:
        return ""
    run = found.group(0)
    if len(run) >= 11 and run.startswith("8") and luhn_ok(run[:11]):
        return run[:11]
    return run[:10]


def within_rate(phone: str) -> bool:
    """Count this text against the phone's replies of the hour; False past the limit."""
    limit = int(settings.SMS_INBOUND_MAX_PER_HOUR)
    if limit <= 0:
        return True
    key = f"sms-inbound:{phone}:{timezone.now():%Y%m%d%H}"
    cache.add(key, 0, timeout=3600)
    try:
        count = int(cache.incr(key))
    except ValueError:  # expired in between
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= limit


@dataclass(frozen=True)
class Reply:
    template: str
    params: dict[str, str]


def _phones_of(account: Account) -> set[str]:
    """The phone numbers a card's balance may be sent to: its resident's, or for a household's
    card (以户为单位) any member's."""
    if account.resident is not None:
        phones = [account.resident.phone]
    elif account.shared_household_id is None:
        phones = []
    else:
        phones = list(
            Resident.objects.filter(household_id=account.shared_household_id).values_list(
                "phone", flat=True
            )
        )
    return {normalize_phone(p) for p in phones if p}


def reply_for(*, phone: str, text: str) -> Reply:
    """What to answer a text from `phone`: the balance of the card it names when the card's
    resident (for a household's card: one of its members) has this phone number; the same
    "not found" otherwise."""
    not_found = Reply(NOT_FOUND_TEMPLATE, {})
    number = card_number_in(text)
    if not number or not luhn_ok(number):
        return not_found
    account = (
        Account.objects.select_related("resident", "household__head")
        .filter(card_number=number)
        .first()
    )
    if account is None or phone not in _phones_of(account):
        return not_found
    if account.resident is not None:
        name = mask_name(account.resident.name)
    else:
        # The head, or the member with the smallest id (as on the notice).
        head = account.household.head or account.household.residents.order_by("id").first()
        name = household_label(mask_name(head.name if head else ""))
    return Reply(
        BALANCE_TEMPLATE,
        {
            "name": name,
            "card": number[-4:],
            "balance": str(account.balance),
            "date": timezone.localdate().strftime("%m-%d"),
        },
    )


def _fields(request: HttpRequest) -> dict[str, str]:
    if request.content_type == "application/x-www-form-urlencoded":
        return {k: request.POST.get(k, "") for k in ("phone", "text", "id")}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: str(data.get(k) or "") for k in ("phone", "text", "id")}


@csrf_exempt
@require_POST
def inbound(request: HttpRequest) -> JsonResponse:
    """The provider's webhook for inbound texts (see the module's docstring)."""
    secret = settings.SMS_INBOUND_SECRET
    if not settings.SMS_INBOUND_ENABLED or not secret:
        raise Http404
    body = request.body[: MAX_BODY + 1]
    if len(body) > MAX_BODY or not signature_ok(
        body, request.headers.get(SIGNATURE_HEADER, ""), secret
    ):
        return JsonResponse({"detail": "bad signature"}, status=403)
    fields = _fields(request)
    phone = normalize_phone(fields.get("phone", ""))
    if not 5 <= len(phone) <= 15:
        return JsonResponse({"detail": "phone missing"}, status=400)
    message_key = f"sms-inbound-id:{fields['id'][:100]}" if fields.get("id") else ""
    if message_key and cache.get(message_key):
        return JsonResponse({"status": "duplicate"})
    if not within_rate(phone):
        logger.warning("inbound SMS from %s*** not answered: over the hourly limit", phone[:3])
        return JsonResponse({"status": "rate_limited"})
    reply = reply_for(phone=phone, text=fields.get("text", ""))
    try:
        send_sms(phone, template_code_for(reply.template), reply.params)
    except SmsError as error:
        logger.warning("balance reply to %s*** failed: %s", phone[:3], error)
        return JsonResponse({"status": "reply_failed"}, status=502)
    if message_key:
        cache.set(message_key, 1, timeout=7 * 24 * 3600)
    return JsonResponse({"status": "answered"})
