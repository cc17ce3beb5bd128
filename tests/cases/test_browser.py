"""The online path in headless Chromium on a phone-sized viewport (390×844).

Playwright runs in its own thread with its own browser (tests/browser/threaded.py): the session
browser of tests/browser may already hold this process's event loop in the same xdist worker.
"""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.threaded import in_browser, session_cookie
from tests.cases import factories as f
from tongban.cases.models import Application, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_applies_online_on_a_phone(live_server, tmp_path):
    impl = f.item()
    person = f.citizen()
    client = Client()
    client.force_login(person.user)
    cookie = session_cookie(client, live_server.url)
    scan = tmp_path / "申请书.pdf"
    scan.write_bytes(f.PDF)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def steps(page, problems):
        page.goto(f"{live_server.url}/cases/apply/{impl.code}/")
        page.get_by_role("button", name="开始申请").click()
        page.get_by_label("本人办理").check()
        page.get_by_label("自有房产").check()
        page.get_by_role("button", name="下一步").click()
        page.wait_for_url("**/materials/")
        page.get_by_label("选择“食品经营许可申请书”文件").set_input_files(str(scan))
        page.get_by_role("button", name="上传").first.click()
        page.wait_for_selector("text=已上传")
        page.get_by_role("link", name="下一步：核对信息").click()
        expect(page.get_by_text("本人办理")).to_be_visible()
        page.screenshot(path=str(SCREENSHOT_DIR / "cases-check-phone.png"), full_page=True)
        page.get_by_role("button", name="确认提交").click()
        page.wait_for_selector("#case-status")
        assert page.locator("#case-status").inner_text() == "已提交待预审"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
        history = page.locator(".table-wrap", has=page.get_by_text("办理过程"))
        overflow = history.evaluate("e => e.scrollWidth - e.clientWidth")
        assert overflow <= 0, f"the case's history scrolls sideways on a phone ({overflow}px)"
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems
        page.screenshot(path=str(SCREENSHOT_DIR / "cases-submitted-phone.png"), full_page=True)

    in_browser(steps, cookie)
    assert Application.objects.get().status == Status.SUBMITTED
