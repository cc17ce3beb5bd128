"""Editing and publishing a parallel process definition in headless Chromium on a phone (390×844),
then the diagram page on a desktop (1280×800) and a phone. Screenshots: test-output/screenshots/.

Playwright runs in its own thread with its own browser (tests/browser/threaded.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.threaded import assert_clean as _clean
from tests.browser.threaded import in_browser_pages, staff_cookie
from tests.workflow.test_definitions import City
from tongban.workflow.models import ProcessVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_edits_and_publishes_a_parallel_definition(live_server):
    town = City()
    from tongban.workflow import definitions as svc

    definition = svc.create_definition(
        actor=town.admin, key="food-parallel", name="食品经营许可并联审批", region=town.city
    )
    cookie = staff_cookie(town.admin, live_server.url)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    base = f"{live_server.url}/workbench/processes/{definition.key}"
    planning = town.planning.credit_code

    def steps(new_page):
        page, problems = new_page("phone")
        page.goto(f"{base}/edit/")
        # JavaScript hides the fields a task does not use.
        expect(page.locator("#s-0-branches")).to_be_hidden()
        page.get_by_role("button", name="添加并联组").click()
        page.wait_for_selector("#s-7-key")
        assert page.locator("#s-4-key").input_value() == "parallel-1"
        assert page.locator("#s-7-key").input_value() == "parallel-1-join"
        # Wire the group in after 审核, give the branches time, but forget where the join leads:
        # saving is refused and each problem is shown next to its step.
        page.fill("#s-1-next", "parallel-1")
        page.fill("#s-5-share", "20")
        page.fill("#s-6-share", "20")
        page.fill("#s-7-next", "")
        page.get_by_role("button", name="保存草稿").click()
        page.wait_for_selector("#wf-problems")
        assert "草稿未保存" in page.locator("#wf-problems").inner_text()
        assert "没有下一环节" in page.locator("#step-parallel-1-join .errorlist").inner_text()
        assert "#step-parallel-1-join" in page.locator("#wf-problems a").first.get_attribute("href")
        page.screenshot(path=str(SCREENSHOT_DIR / "workflow-definition-problems-phone.png"), full_page=True)
        _clean(page, [p for p in problems if "422" not in p], 390)  # the refused save answers 422
        problems.clear()
        # Fix: the join leads to 决定, 审查 gives up 20%, one branch goes to 自然资源和规划局.
        page.fill("#s-7-next", "decide")
        page.fill("#s-0-share", "30")
        page.fill("#s-5-name", "质量安全审查")
        page.fill("#s-6-name", "规划核验")
        page.select_option("#s-6-department", planning)
        page.get_by_role("button", name="保存并发布…").click()
        page.wait_for_url("**/publish/")
        expect(page.locator("svg.wf-diagram text", has_text="规划核验")).to_be_visible()
        page.get_by_label("我已核对流程图和变更，确认发布").check()
        page.get_by_role("button", name="确认发布").click()
        page.wait_for_url(f"{base}/")
        assert "现行版本：第 1 版" in page.locator("#current-version").inner_text()
        _clean(page, problems, 390)
        page.screenshot(path=str(SCREENSHOT_DIR / "workflow-definition-phone.png"), full_page=True)
        page.context.close()

        page, problems = new_page("desktop")
        page.goto(f"{base}/")
        svg = page.locator("section[aria-labelledby=current-version] svg.wf-diagram")
        assert svg.get_attribute("role") == "img"
        box = svg.bounding_box()
        assert box and box["width"] > 300
        current = page.locator("section[aria-labelledby=current-version]")
        current.locator(".wf-outline summary").click()
        expect(current.locator(".wf-outline li", has_text="规划核验：会审")).to_be_visible()
        _clean(page, problems, 1280)
        page.screenshot(path=str(SCREENSHOT_DIR / "workflow-definition-desktop.png"), full_page=True)
        # A new draft copies the published version; the step editor on a desktop.
        page.get_by_role("button", name="新建草稿（复制最新版本）").click()
        page.wait_for_url("**/edit/")
        assert page.locator("#s-6-department").input_value() == planning
        _clean(page, problems, 1280)
        page.screenshot(path=str(SCREENSHOT_DIR / "workflow-definition-edit-desktop.png"), full_page=True)
        page.goto(f"{live_server.url}/workbench/processes/")
        expect(page.get_by_role("link", name="食品经营许可并联审批")).to_be_visible()
        _clean(page, problems, 1280)
        page.screenshot(path=str(SCREENSHOT_DIR / "workflow-definitions-list-desktop.png"), full_page=True)
        page.context.close()

    in_browser_pages(steps, cookie)
    version = definition.versions.get(number=1)
    assert definition.versions.get(number=2).graph == version.graph
    assert version.status == ProcessVersion.State.PUBLISHED
    nodes = {n["key"]: n for n in version.graph["nodes"]}
    assert nodes["parallel-1-b"]["department"] == planning
    assert nodes["audit"]["next"] == "parallel-1"
