"""Browser journeys through the catalogue: a citizen finds a service the way people talk and gets the
exact material list; an editor changes a guide, another person reviews and publishes it."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from playwright.sync_api import expect

from tests.catalog import factories
from tongban.catalog import demo
from tongban.catalog.models import ItemImplementation

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def demo_catalogue(transactional_db, settings):
    settings.PLATFORM_REGION_CODE = "341500"
    factories.demo_departments()
    demo.load(None, counties=["341502"])


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_citizen_finds_restaurant_licence_and_gets_exact_list(browser_page, live_server, demo_catalogue):
    page = browser_page.goto(live_server.url + "/")
    page.get_by_label("搜索办事事项").fill("开饭店")
    page.get_by_role("search").get_by_role("button", name="搜索").click()
    page.wait_for_url("**/services/search/**")
    results = page.get_by_role("main").get_by_role("link", name=re.compile("食品经营许可"))
    expect(results.first).to_be_visible()
    browser_page.screenshot("catalog-search-kaifandian")

    results.first.click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", level=1).inner_text() == "食品经营许可"
    # A long guide on a phone: jump links at the top, nothing wider than the screen.
    toc = page.get_by_role("navigation", name="本页目录")
    expect(toc).to_be_visible()
    expect(toc.get_by_role("link", name="申请材料")).to_be_visible()
    assert no_sideways_scroll(page)
    browser_page.assert_clean()
    browser_page.screenshot("catalog-guide")

    page.get_by_role("link", name=re.compile("情形引导")).first.click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", level=1).inner_text().startswith("情形引导")
    impl = ItemImplementation.objects.get(code=page.url.rstrip("/").split("/")[-2])
    questions = list(impl.published_version.questions.prefetch_related("options"))
    assert questions
    chosen = {}
    for question in questions:
        # The last option is the "special" answer (委托, 租赁, 是 …): it adds materials.
        option = list(question.options.all())[-1]
        chosen[question.key] = option.key
        page.get_by_role("group", name=re.compile(re.escape(question.text))).get_by_label(
            option.label, exact=True
        ).check()
    browser_page.screenshot("catalog-situation-questions")
    page.get_by_role("button", name="查看我的材料清单").click()
    page.wait_for_load_state("load")

    from tongban.catalog import services

    expected = services.evaluate_situations(impl.published_version, chosen)
    heading = page.get_by_role("heading", name=re.compile("您需要准备的材料"))
    assert heading.inner_text() == f"您需要准备的材料（{len(expected.materials)} 项）"
    shown = page.locator("#my-list ~ ol .card-title").all_inner_texts()
    assert shown == [m.name for m in expected.materials]
    # Rented premises with catering: the lease and the layout plan, not the title deed.
    assert "房屋租赁合同" in shown and "集体用餐配送单位建设布局图" in shown
    assert "房屋产权证明" not in shown
    visits = page.locator("dt", has_text="到现场次数").locator("xpath=following-sibling::dd[1]").inner_text()
    assert visits == ("无需到现场，可全程网上办理" if expected.visits == 0 else f"{expected.visits} 次")
    assert no_sideways_scroll(page)
    browser_page.assert_clean()
    browser_page.screenshot("catalog-situation-result")


def _staff_context(browser, live_server, user, viewport: dict):
    """A browser context logged in as ``user`` with a TOTP-verified session (as after the real login)."""
    client = Client()
    factories.login_staff(client, user)
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def test_editor_changes_guide_reviewer_publishes_portal_shows_it(
    _playwright_browser, live_server, demo_catalogue
):
    from tests.browser.conftest import SCREENSHOT_DIR, VIEWPORTS

    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    impl = ItemImplementation.objects.get(basic_item__name="食品经营许可", region__code="341502")
    editor = factories.UserFactory(username="editor", first_name="林事项", perms=factories.EDITOR_PERMS)
    reviewer = factories.UserFactory(username="reviewer", first_name="何事项", perms=factories.REVIEWER_PERMS)
    desktop = VIEWPORTS["desktop"]
    new_place = "金安区政务服务中心一楼食品经营许可专窗（A12 号窗口）"

    editor_context = _staff_context(_playwright_browser, live_server, editor, desktop)
    page = editor_context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/services/manage/{impl.code}/")
    page.get_by_label("变更说明").fill("办理地点调整到一楼专窗")
    page.get_by_role("button", name="创建新草稿（修改事项）").click()
    page.wait_for_load_state("load")
    # A new draft opens straight in the editor.
    assert page.url.endswith(f"/services/manage/{impl.code}/edit/")
    page.get_by_role("textbox", name=re.compile("^办理地点")).fill(new_place)
    page.locator("#id_materials-0-blank_form_upload").set_input_files(
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.screenshot(path=str(SCREENSHOT_DIR / "catalog-manage-edit-desktop.png"), full_page=False)
    page.get_by_role("button", name="保存并提交审核").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text(re.compile("待审核")).first).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "catalog-manage-submitted-desktop.png"), full_page=True)
    editor_context.close()

    reviewer_context = _staff_context(_playwright_browser, live_server, reviewer, desktop)
    page = reviewer_context.new_page()
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{live_server.url}/services/manage/{impl.code}/")
    # The reviewer sees what changed before deciding.
    expect(page.get_by_text(new_place).first).to_be_visible()
    page.get_by_label("审核通过").check()
    page.get_by_role("button", name="提交审核意见").click()
    page.wait_for_load_state("load")
    page.get_by_role("button", name="发布").click()
    page.wait_for_load_state("load")
    expect(page.get_by_text(re.compile("第 2 版")).first).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "catalog-manage-published-desktop.png"), full_page=True)

    page.goto(f"{live_server.url}/services/{impl.code}/")
    expect(page.get_by_text(new_place).first).to_be_visible()
    materials = impl.versions.get(number=1).materials.count()
    expect(page.get_by_role("heading", name=f"申请材料（{materials} 项）")).to_be_visible()
    download = page.get_by_role("link", name=re.compile("下载空白表格（PDF"))
    with page.expect_download() as download_info:
        download.click()
    assert download_info.value.suggested_filename.endswith("（空白表格）.pdf")
    history = page.get_by_role("region", name="变更记录")
    expect(history.get_by_text("第 2 版")).to_be_visible()
    expect(history.get_by_text("办理地点调整到一楼专窗")).to_be_visible()
    page.screenshot(path=str(SCREENSHOT_DIR / "catalog-guide-after-publish-desktop.png"), full_page=True)
    assert not errors, errors
    reviewer_context.close()
