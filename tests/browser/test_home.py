"""Browser smoke tests of the home page and the shared layouts (headless Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tongban.core.models import Region, ServiceHall

pytestmark = pytest.mark.browser

BOTH = pytest.mark.parametrize("viewport", ["desktop", "phone"], indirect=True)


@pytest.fixture
def luan(transactional_db, settings):
    """六安市 with two counties and its 政务服务中心 (until tests/core/factories.py exists)."""
    settings.PLATFORM_REGION_CODE = "341500"
    anhui = Region.objects.create(code="340000", name="安徽省", level=Region.Level.PROVINCE)
    city = Region.objects.create(code="341500", name="六安市", level=Region.Level.CITY, parent=anhui)
    counties = [("341502", "金安区"), ("341503", "裕安区"), ("341504", "叶集区"), ("341522", "霍邱县")]
    for code, name in counties:
        Region.objects.create(code=code, name=name, level=Region.Level.COUNTY, parent=city)
    ServiceHall.objects.create(
        name="六安市政务服务中心",
        kind=ServiceHall.Kind.CENTRE,
        region=city,
        address="六安市金安区梅山南路与皋城路交口",
        opening_hours=[
            {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "12:00"},
            {"days": [1, 2, 3, 4, 5], "open": "13:30", "close": "17:00"},
        ],
        phone="0564-3379000",
    )
    return city


def main_font_size(page) -> float:
    return page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")


@BOTH
def test_home_page_smoke(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")

    assert page.title() == "六安市一体化政务服务平台"
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", level=1).inner_text() == "六安市一体化政务服务平台"
    for landmark in ["banner", "main", "contentinfo"]:
        assert page.get_by_role(landmark).count() == 1, landmark
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    search = page.get_by_label("搜索办事事项")
    expect(search).to_be_visible()
    assert search.get_attribute("name") == "q"
    expect(page.get_by_role("link", name="金安区")).to_be_visible()
    expect(page.get_by_text("六安市政务服务中心")).to_be_visible()
    expect(page.get_by_text("周一至周五 09:00-12:00、13:30-17:00")).to_be_visible()
    # Nothing sticks out sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    browser_page.assert_clean()
    browser_page.screenshot("home")


@BOTH
def test_search_box_goes_to_the_catalogue_search(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")

    page.get_by_label("搜索办事事项").fill("开饭店")
    with page.expect_request("**/services/search/**") as request_info:
        page.get_by_role("search").get_by_role("button", name="搜索").click()

    assert "q=%E5%BC%80%E9%A5%AD%E5%BA%97" in request_info.value.url


@BOTH
def test_elder_mode_toggle_enlarges_text_and_is_remembered(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")
    before = main_font_size(page)
    assert "elder-mode" not in (page.locator("body").get_attribute("class") or "")

    page.get_by_role("button", name="适老化模式", exact=True).click()
    page.wait_for_load_state("load")

    assert "elder-mode" in page.locator("body").get_attribute("class").split()
    after = main_font_size(page)
    assert after > before
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    expect(page.get_by_role("status").filter(has_text="已开启适老化模式")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    browser_page.screenshot("home-elder")

    page.reload()
    assert "elder-mode" in page.locator("body").get_attribute("class").split()
    assert main_font_size(page) == after

    page.get_by_role("button", name="退出适老化模式").click()
    page.wait_for_load_state("load")
    assert "elder-mode" not in page.locator("body").get_attribute("class").split()
    browser_page.assert_clean()


def test_tab_reaches_the_skip_link_first(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")

    page.keyboard.press("Tab")

    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent]")
    assert focused == ["skip-link", "跳到主要内容"]
    expect(page.locator(".skip-link")).to_be_visible()  # shown when focused
    browser_page.screenshot("skip-link-focused", full_page=False)
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


# A stand-in for speechSynthesis: records what would be spoken (headless Chromium has no voices).
_FAKE_SPEECH = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
  speak: function (u) { window.__spoken.push({text: u.text, lang: u.lang}); },
  cancel: function () {},
  getVoices: function () { return []; }
}});
"""
_NO_SPEECH = 'Object.defineProperty(window, "speechSynthesis", {configurable: true, value: undefined});'


def test_read_aloud_reads_main_content_in_chinese(browser_page, live_server, luan):
    browser_page.page.add_init_script(_FAKE_SPEECH)
    page = browser_page.goto(live_server.url + "/")
    button = page.get_by_role("button", name="朗读")
    expect(button).to_be_visible()

    button.click()

    spoken = page.evaluate("window.__spoken")
    text = "".join(part["text"] for part in spoken)
    assert {part["lang"] for part in spoken} == {"zh-CN"}
    assert "六安市政务服务中心" in text
    # Only <main> is read: it starts with the page heading; skip link, header and footer are left out.
    assert text.startswith("六安市一体化政务服务平台")
    assert "跳到主要内容" not in text
    assert "支持适老化模式与网页朗读" not in text
    expect(page.get_by_role("button", name="停止朗读")).to_be_visible()
    browser_page.assert_clean()


def test_read_aloud_button_hidden_without_speech_api(browser_page, live_server, luan):
    browser_page.page.add_init_script(_NO_SPEECH)
    page = browser_page.goto(live_server.url + "/")

    assert page.locator("[data-read-aloud]").count() == 1
    expect(page.locator("[data-read-aloud]")).to_be_hidden()
    browser_page.assert_clean()


@pytest.mark.parametrize("viewport", ["small-phone"], indirect=True)
def test_home_fits_a_360px_phone(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")

    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    browser_page.screenshot("home")


def test_error_page_in_the_browser(browser_page, live_server, transactional_db):
    page = browser_page.goto(live_server.url + "/no-such-page/", expected_status=404)

    assert page.get_by_role("heading", level=1).inner_text() == "页面不存在"
    expect(page.get_by_role("link", name="返回首页")).to_be_visible()
    # The 404 itself is logged by Chromium as a failed resource; everything else must be clean.
    assert all("404" in message for message in browser_page.console_errors)
    assert browser_page.csp_violations() == []
    browser_page.screenshot("error-404")


@pytest.mark.urls("tests.browser.urls")
@BOTH
@pytest.mark.parametrize("layout", ["portal", "workbench"])
@pytest.mark.parametrize("elder", [False, True], ids=["standard", "elder"])
def test_component_gallery(browser_page, live_server, transactional_db, layout, elder):
    if elder:
        browser_page.page.context.add_cookies([{"name": "tb_elder", "value": "1", "url": live_server.url}])
    page = browser_page.goto(f"{live_server.url}/__design__/{layout}/")

    assert page.get_by_role("heading", level=1).inner_text() == "组件示例"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if layout == "workbench":
        expect(page.get_by_role("navigation", name="工作台导航")).to_be_visible()
    browser_page.assert_clean()
    browser_page.screenshot(f"components-{layout}{'-elder' if elder else ''}")


def test_htmx_requests_carry_the_csrf_token(browser_page, live_server, luan):
    page = browser_page.goto(live_server.url + "/")

    # A real CSRF-protected POST made by htmx: Django answers 403 unless site.js added the header.
    with page.expect_response("**/display/elder-mode/") as response_info:
        page.evaluate(
            "htmx.ajax('POST', '/display/elder-mode/', {values: {enabled: '1', next: '/'}, swap: 'none'})"
        )

    assert response_info.value.status == 302
    assert response_info.value.request.headers.get("hx-request") == "true"
    assert response_info.value.request.headers.get("x-csrftoken")
    assert {c["name"]: c["value"] for c in page.context.cookies()}.get("tb_elder") == "1"
    browser_page.assert_clean()


@pytest.mark.urls("tests.browser.urls")
def test_print_layout_hides_navigation_and_controls(browser_page, live_server, transactional_db):
    page = browser_page.goto(f"{live_server.url}/__design__/portal/")

    page.emulate_media(media="print")

    for selector in [".utility-bar", ".main-nav", ".site-search", ".skip-link", "form.form", ".pagination"]:
        expect(page.locator(selector).first).to_be_hidden()
    expect(page.locator(".guide-dl")).to_be_visible()
    assert page.locator(".table-wrap").evaluate("e => getComputedStyle(e).overflowX") == "visible"
    browser_page.screenshot("components-portal-print")
