"""The supervision dashboard and hall big screen in headless Chromium (1280×800 and 390×844).

Playwright runs in its own thread with its own browser (tests/browser/threaded.py).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOT_DIR, VIEWPORTS
from tests.browser.threaded import in_browser, session_cookie, staff_cookie
from tests.supervision import factories as f
from tongban.cases.models import Channel, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TODAY = timezone.localdate()


def _data():
    w = f.world()
    supervisor = f.staff(w["market"], ["supervisor"], username="sv-browser")
    profile = supervisor.staff_profile
    profile.region = w["regions"]["city"]
    profile.save()
    for i, (item, delta) in enumerate(
        [
            (w["item_market"], -3),
            (w["item_market"], 1),
            (w["item_data"], 30),
            (w["item_yuan"], 40),
            (w["item_data"], -1),
        ]
    ):
        app = f.case(
            item, deadline=TODAY + dt.timedelta(days=delta), received=TODAY - dt.timedelta(days=10 + i)
        )
        f.task(app, due=TODAY + dt.timedelta(days=delta))
    for i, item in enumerate([w["item_market"], w["item_market"], w["item_data"], w["item_yuan"]]):
        f.case(
            item,
            status=Status.COMPLETED,
            received=TODAY - dt.timedelta(days=5 + i),
            accepted_at=timezone.now() - dt.timedelta(days=4 + i),
            completed_at=timezone.now() - dt.timedelta(hours=i),
            handling_working_days=2 + i,
            on_time=i != 2,
            visits=i % 2,
            channel=Channel.WINDOW if i % 2 else Channel.ONLINE,
        )
    return w, supervisor


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_dashboard_charts_render_without_csp_problems(live_server, viewport):
    _, supervisor = _data()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def steps(page, problems):
        page.goto(f"{live_server.url}/supervision/")
        page.wait_for_selector("[data-chart='chart-lights'] svg")
        page.wait_for_selector("[data-chart='chart-departments'] svg")
        page.wait_for_selector("[data-chart='chart-trend'] svg")
        expect(page.get_by_role("heading", name="电子监察总览")).to_be_visible()
        assert "2" in page.locator(".sv-kpis li").first.inner_text()  # two red cases
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], f"page scrolls sideways ({width}px)"
        page.screenshot(path=str(SCREENSHOT_DIR / f"supervision-dashboard-{viewport}.png"), full_page=True)
        # keyboard: the red-light figure is a link reachable by Tab and opens the filtered list
        page.locator(".sv-kpis a").first.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/supervision/cases/?light=red")
        assert page.locator("tbody tr").count() == 2
        page.screenshot(path=str(SCREENSHOT_DIR / f"supervision-cases-{viewport}.png"), full_page=True)
        page.locator("tbody tr a").first.click()
        page.wait_for_selector("text=办理环节与用时")
        page.get_by_label("督办要求").fill("请说明超期原因，并于三个工作日内办结。")
        page.screenshot(path=str(SCREENSHOT_DIR / f"supervision-case-form-{viewport}.png"), full_page=True)
        page.get_by_role("button", name="发出督办单").click()
        page.wait_for_selector("text=督办单书面回复", state="detached")
        expect(page.get_by_text("待回复").first).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORTS[viewport]["width"], f"case page scrolls sideways ({width}px)"
        page.screenshot(path=str(SCREENSHOT_DIR / f"supervision-case-{viewport}.png"), full_page=True)
        page.goto(f"{live_server.url}/supervision/stats/?group_by=department")
        page.wait_for_selector("[data-chart='chart-main'] svg")
        page.screenshot(path=str(SCREENSHOT_DIR / f"supervision-stats-{viewport}.png"), full_page=True)
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems

    in_browser(steps, staff_cookie(supervisor, live_server.url), viewport, timeout=15_000)


def test_big_screen_refreshes_itself(live_server, monkeypatch):
    w, supervisor = _data()
    # the steps create a case from Playwright's thread, which runs an event loop
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    def steps(page, problems):
        page.goto(f"{live_server.url}/supervision/screen/?interval=5")
        before = page.locator("[data-field='today_received']").inner_text()
        f.case(w["item_market"], status=Status.SUBMITTED, received=TODAY)  # a new case arrives
        page.wait_for_function(
            "b => document.querySelector(\"[data-field='today_received']\").textContent !== b",
            arg=before,
            timeout=15_000,
        )
        assert int(page.locator("[data-field='today_received']").inner_text()) == int(before) + 1
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.sc-value')).fontSize)")
        assert size >= 48, size  # readable from across the hall
        page.screenshot(path=str(SCREENSHOT_DIR / "supervision-screen-desktop.png"))
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems

    in_browser(steps, staff_cookie(supervisor, live_server.url), "desktop", timeout=15_000)


def test_citizen_complaint_form_on_a_phone(live_server):
    w, _ = _data()
    person = f.cf.citizen("赵六")
    app = f.case(w["item_market"], deadline=TODAY, owner=person.user)
    client = Client()
    client.force_login(person.user)
    cookie = session_cookie(client, live_server.url)

    def steps(page, problems):
        page.goto(f"{live_server.url}/supervision/complain/")
        page.get_by_role("button", name="提交投诉").click()
        page.wait_for_selector("text=请选择要投诉的办件。")
        expect(page.get_by_text("请填写投诉内容。")).to_be_visible()
        page.get_by_label("办件", exact=True).select_option(str(app.pk))
        page.get_by_label("投诉内容").fill("提交材料两周没有进展，电话无人接听。")
        page.get_by_label("联系人").fill("赵六")
        page.screenshot(path=str(SCREENSHOT_DIR / "supervision-complain-phone.png"), full_page=True)
        page.get_by_role("button", name="提交投诉").click()
        page.wait_for_url("**/complain/mine/")
        expect(page.get_by_text("投诉已登记")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
        problems.extend(page.evaluate("window.__cspViolations || []"))
        assert not problems, problems

    in_browser(steps, cookie, "phone", timeout=15_000)
