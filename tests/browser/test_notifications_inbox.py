"""The resident's inbox (issue 14) in a real chromium: a 360×740 phone in Chinese, the demo
resident 赵银名 told two more things; /me/ shows the unread count, the inbox lists them, and
"全部标为已读" clears the badge. Screenshot: docs/screenshots/resident-inbox.png."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.test_resident_pages import demo, log_in, shot  # noqa: F401


def test_resident_reads_their_notifications(demo: Any, page: Any) -> None:  # noqa: F811
    from notifications.events import Event
    from notifications.models import Notification
    from notifications.services import notify

    community_id = demo.household.grid.community_id
    notify(
        recipient=demo.user, resident=demo, event=Event.CLAIM_APPROVED, key="shot:claim",
        context={"resident": demo.name, "rule": "清扫责任区", "points": 1, "balance": 21},
        community_id=community_id, link="/me/",
    )  # fmt: skip
    notify(
        recipient=demo.user, resident=demo, event=Event.NEED_RESOLVED, key="shot:need",
        context={"title": "村西头路灯不亮", "resolution": "已更换灯泡"},
        community_id=community_id, link="/me/needs/",
    )  # fmt: skip
    # the demo's own history (seeded through the services) has told the resident things too
    unread = Notification.objects.filter(recipient=demo.user, read_at__isnull=True).count()
    assert unread >= 2
    log_in(page)
    expect(page.locator("#inbox-unread")).to_have_text(str(unread))
    page.locator("#go-inbox").click()
    expect(page.locator("h1")).to_have_text("消息")
    expect(page.locator("#inbox li.unread")).to_have_count(min(unread, 30))
    expect(page.locator("#inbox")).to_contain_text("请对办理结果进行评价")
    shot(page, "inbox")
    page.locator("#read-all").click()
    expect(page.locator("#inbox li.read")).to_have_count(min(unread, 30))
    assert not Notification.objects.filter(recipient=demo.user, read_at__isnull=True).exists()
    page.goto("/me/")
    expect(page.locator("#go-inbox")).to_be_visible()
    expect(page.locator("#inbox-unread")).to_have_count(0)
