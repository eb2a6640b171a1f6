"""The field app's login under the failed-login limits (issue 13): after too many wrong
passwords the phone shows the server's Chinese lockout message, not "wrong password"."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, login, tid


def test_a_locked_out_worker_sees_the_servers_lockout_message(
    village: SimpleNamespace, page: Any, tmp_path: Path
) -> None:
    error = page.locator(tid("login-error"))
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        login(page, "worker", f"wrong-{i}", expect_ok=False)
        expect(error).to_have_text("用户名或密码不正确")
    login(page, "worker", "wrong-last", expect_ok=False)
    expect(error).to_contain_text("登录失败次数过多")
    expect(error).to_contain_text("15 分钟")
    # The right password now is refused too, with the same message, and no tab bar.
    page.reload()
    expect(error).to_have_count(0)
    login(page, "worker", PASSWORD, expect_ok=False)
    expect(error).to_contain_text("登录失败次数过多")
    expect(page.locator(tid("tabbar"))).to_have_count(0)
    page.screenshot(path=str(tmp_path / "lockout.png"))
    assert not page.evaluate("localStorage.getItem('gp.token')")
