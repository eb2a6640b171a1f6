"""SMS (短信) through a backend named by the setting SMS_BACKEND.

A backend has one method, `send(phone, template_code, params)`: it sends the provider's
template `template_code` (registered with the provider, signed with SMS_SIGN_NAME) filled with
`params`, and raises SmsError when the provider refuses or cannot be reached (the caller
retries with backoff, then records the failure). Backends:

- ConsoleSmsBackend (default): writes the message to the log / stdout;
- FileSmsBackend: appends one JSON line per message to SMS_FILE_PATH;
- LocmemSmsBackend: keeps messages in `notifications.sms.outbox` (tests);
- AliyunSmsBackend: Alibaba Cloud SMS through its maintained SDK
  (`pip install gridpoints[sms]`: alibabacloud_dysmsapi20170525), credentials from
  ALIYUN_SMS_ACCESS_KEY_ID / ALIYUN_SMS_ACCESS_KEY_SECRET.

Other helpers (an inbound webhook, balance by SMS) send through `send_sms` too.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider refused the message or could not be reached."""


class SmsBackend(Protocol):
    def send(self, phone: str, template_code: str, params: dict[str, str]) -> str:
        """Send; return the provider's message id (or "" when it gives none)."""
        ...


class ConsoleSmsBackend:
    def send(self, phone: str, template_code: str, params: dict[str, str]) -> str:
        text = json.dumps(params, ensure_ascii=False)
        line = f"[SMS {settings.SMS_SIGN_NAME}] {phone} {template_code} {text}"
        logger.info(line)
        sys.stdout.write(line + "\n")
        return ""


class FileSmsBackend:
    def send(self, phone: str, template_code: str, params: dict[str, str]) -> str:
        record = {
            "at": timezone.now().isoformat(),
            "sign": settings.SMS_SIGN_NAME,
            "phone": phone,
            "template": template_code,
            "params": params,
        }
        with open(settings.SMS_FILE_PATH, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return ""


outbox: list[dict[str, Any]] = []


class LocmemSmsBackend:
    """Keeps what was sent in `outbox` (tests empty it)."""

    def send(self, phone: str, template_code: str, params: dict[str, str]) -> str:
        outbox.append({"phone": phone, "template": template_code, "params": params})
        return str(len(outbox))


class AliyunSmsBackend:
    """Alibaba Cloud SMS (阿里云短信服务), API version 2017-05-25, through the maintained SDK
    `alibabacloud_dysmsapi20170525`, imported only when this backend is used."""

    def __init__(self) -> None:
        try:
            from alibabacloud_dysmsapi20170525.client import Client
            from alibabacloud_tea_openapi import models as open_api_models
        except ImportError as exc:  # pragma: no cover - the optional extra is not installed
            raise SmsError(
                "SMS_BACKEND is the Aliyun backend but its SDK is not installed: "
                "pip install 'gridpoints[sms]'"
            ) from exc
        config = open_api_models.Config(
            access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
            access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        )
        config.endpoint = settings.ALIYUN_SMS_ENDPOINT
        self.client = Client(config)

    def send(self, phone: str, template_code: str, params: dict[str, str]) -> str:
        from alibabacloud_dysmsapi20170525 import models as sms_models

        request = sms_models.SendSmsRequest(
            phone_numbers=phone,
            sign_name=settings.SMS_SIGN_NAME,
            template_code=template_code,
            template_param=json.dumps(params, ensure_ascii=False),
        )
        try:
            response = self.client.send_sms(request)
        except Exception as exc:  # the SDK's TeaException, network errors …
            raise SmsError(str(exc)) from exc
        body = response.body
        if body is None or body.code != "OK":
            raise SmsError(f"{getattr(body, 'code', '?')}: {getattr(body, 'message', '')}")
        return str(body.biz_id or "")


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend


def template_code_for(event: str) -> str:
    """The provider's template code for an event (SMS_TEMPLATES), or the event's name when
    none is configured (the console and file backends need none)."""
    return str(settings.SMS_TEMPLATES.get(event, event))


def send_sms(phone: str, template_code: str, params: dict[str, Any]) -> str:
    """Send one SMS now through the configured backend; raises SmsError. Quiet hours and the
    rate limit are the notification deliveries' business (notifications.services)."""
    return get_backend().send(phone, template_code, {k: str(v) for k, v in params.items()})
