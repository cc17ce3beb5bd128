"""The online path in headless Chromium on a phone-sized viewport (390×844)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import _playwright_browser, browser_page, viewport  # noqa: F401 — fixtures
from tests.cases import factories as f
from tongban.cases.models import Application, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_citizen_applies_online_on_a_phone(browser_page, live_server, viewport, tmp_path):  # noqa: F811
    impl = f.item()
    person = f.citizen()
    client = Client()
    client.force_login(person.user)
    page = browser_page.page
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    browser_page.goto(f"{live_server.url}/cases/apply/{impl.code}/")
    page.get_by_role("button", name="开始申请").click()
    page.get_by_label("本人办理").check()
    page.get_by_label("自有房产").check()
    page.get_by_role("button", name="下一步").click()
    page.wait_for_url("**/materials/")
    scan = tmp_path / "申请书.pdf"
    scan.write_bytes(f.PDF)
    page.get_by_label("选择“食品经营许可申请书”文件").set_input_files(str(scan))
    page.get_by_role("button", name="上传").first.click()
    page.wait_for_selector("text=已上传")
    page.get_by_role("link", name="下一步：核对信息").click()
    assert page.get_by_text("本人办理").is_visible()
    browser_page.screenshot("cases-check")
    page.get_by_role("button", name="确认提交").click()
    page.wait_for_selector("#case-status")
    assert page.locator("#case-status").inner_text() == "已提交待预审"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    browser_page.assert_clean()
    browser_page.screenshot("cases-submitted")
    assert Application.objects.get().status == Status.SUBMITTED
