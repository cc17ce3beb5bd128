"""Applying for 企业开办 in headless Chromium on a phone (390×844): choose, one form, one set of
materials, check, submit; then the case page lists every department's child application.

Playwright runs in its own thread with its own browser (tests/browser/threaded.py).
"""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.threaded import in_browser, session_cookie, staff_cookie
from tests.bundles import factories as bf
from tests.cases import factories as cf
from tongban.bundles.models import BundleCase, BundleStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_applies_for_qiye_kaiban_on_a_phone(live_server, tmp_path):
    bundle = bf.bundle()
    person = cf.citizen()
    client = Client()
    client.force_login(person.user)
    cookie = session_cookie(client, live_server.url)
    scan = tmp_path / "材料.pdf"
    scan.write_bytes(cf.PDF)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def steps(page, problems):
        page.goto(f"{live_server.url}/bundles/{bundle.code}/")
        page.screenshot(path=str(SCREENSHOT_DIR / "bundles-guide-phone.png"), full_page=True)
        page.get_by_role("link", name="在线申请一件事").click()
        page.get_by_role("button", name="开始申请").click()
        page.get_by_label("需要开立公积金账户").check()
        page.get_by_label("委托他人办理").check()
        page.get_by_role("button", name="下一步").click()
        page.wait_for_url("**/form/")
        for name, value in bf.ENTERPRISE_FORM.items():
            page.locator(f"#f_{name}").fill(value)
        page.get_by_role("button", name="下一步").click()
        page.wait_for_url("**/materials/")
        for name in ("公司登记（备案）申请书", "授权委托书", "法定代表人身份证明"):
            chooser = page.get_by_label(f"选择“{name}”文件")
            chooser.set_input_files(str(scan))
            page.locator("form", has=chooser).get_by_role("button", name="上传").click()
            page.wait_for_selector("text=材料已上传")
        assert page.get_by_text("已上传：材料.pdf").count() == 3
        page.screenshot(path=str(SCREENSHOT_DIR / "bundles-materials-phone.png"), full_page=True)
        page.get_by_role("link", name="下一步：核对信息").click()
        expect(page.get_by_text("委托他人办理", exact=True)).to_be_visible()
        page.screenshot(path=str(SCREENSHOT_DIR / "bundles-check-phone.png"), full_page=True)
        page.get_by_role("button", name="确认提交").click()
        page.wait_for_selector("#bundle-status")
        assert page.locator("#bundle-status").inner_text() == "已提交待受理"
        assert page.locator("#children .tag", has_text="已提交待预审").count() == 3
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems
        page.screenshot(path=str(SCREENSHOT_DIR / "bundles-submitted-phone.png"), full_page=True)

    in_browser(steps, cookie)
    bc = BundleCase.objects.get()
    assert bc.status == BundleStatus.SUBMITTED and bc.members.count() == 3


def test_window_clerk_accepts_a_bundle_on_a_phone(live_server):
    from tests.bundles.test_services import _submitted

    bc = _submitted()
    clerk = cf.clerk(bc.lead_department)
    cookie = staff_cookie(clerk, live_server.url)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def steps(page, problems):
        page.goto(f"{live_server.url}/bundles/workbench/")
        page.get_by_role("link", name=bc.reference).click()
        page.screenshot(path=str(SCREENSHOT_DIR / "bundles-review-phone.png"), full_page=True)
        page.get_by_role("button", name="一次受理全部事项").click()
        page.wait_for_selector("text=已一次受理全部事项")
        assert page.locator("#bundle-status").inner_text() == "各部门并联办理中"
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems

    in_browser(steps, cookie)
    bc.refresh_from_db()
    assert bc.status == BundleStatus.IN_PROGRESS
