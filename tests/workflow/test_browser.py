"""An approver handles a parallel branch in headless Chromium (desktop) and on a phone."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.threaded import in_browser, staff_cookie
from tests.workflow import factories as wf
from tongban.workflow.models import Task, TaskStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_approver_claims_and_approves_in_the_browser(live_server, viewport):
    item = wf.parallel_item()
    app = item.accepted()
    approver = wf.staff(item.housing, "approver")
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)

    def steps(page, problems):
        page.goto(f"{live_server.url}/workbench/tasks/")
        page.get_by_role("link", name=app.case_number).click()
        page.get_by_role("button", name="签收").click()
        page.wait_for_selector("text=已签收")
        page.get_by_label("办理意见").fill("申请材料齐全，符合受理条件。")
        page.screenshot(path=str(SCREENSHOT_DIR / f"workflow-task-{viewport}.png"), full_page=True)
        page.get_by_role("button", name="同意", exact=True).click()
        page.wait_for_selector("text=已办理")
        page.get_by_label("亮灯", exact=True).select_option("green")
        page.get_by_role("button", name="筛选").click()
        page.screenshot(path=str(SCREENSHOT_DIR / f"workflow-queue-{viewport}.png"), full_page=True)
        assert not problems, problems

    in_browser(steps, staff_cookie(approver, live_server.url), viewport=viewport)
    review = Task.objects.get(application=app, node_key="review")
    assert review.status == TaskStatus.DONE and review.opinion == "申请材料齐全，符合受理条件。"
    assert Task.objects.filter(application=app, split_key="joint", status=TaskStatus.OPEN).count() == 3
