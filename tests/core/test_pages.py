"""Public pages of the core app: home, Chinese error pages and the 适老化 switch (Django test client)."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client
from django.urls import include, path

from tongban.core.middleware import ELDER_MODE_COOKIE
from tongban.core.models import Region, ServiceHall


# A URLconf for this module only (pytest.mark.urls): the real one plus views that fail on purpose.
def _forbidden(request):
    raise PermissionDenied


def _bad_request(request):
    raise SuspiciousOperation("tampered")


def _crash(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("__test__/403/", _forbidden),
    path("__test__/400/", _bad_request),
    path("__test__/500/", _crash),
    path("", include("tongban.urls")),
]
handler400 = "tongban.core.views.bad_request"
handler403 = "tongban.core.views.permission_denied"
handler404 = "tongban.core.views.page_not_found"
handler500 = "tongban.core.views.server_error"

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"\sstyle\s*=|<style[\s>]", re.IGNORECASE)


def assert_csp_clean(html: str) -> None:
    """The CSP forbids inline scripts and styles; a page that has them is broken in the browser."""
    assert not INLINE_SCRIPT.search(html), "inline <script> without src"
    assert not INLINE_STYLE.search(html), "inline style attribute or <style> element"


@pytest.fixture
def luan(db, settings):
    settings.PLATFORM_REGION_CODE = "341500"
    anhui = Region.objects.create(code="340000", name="安徽省", level=Region.Level.PROVINCE)
    city = Region.objects.create(code="341500", name="六安市", level=Region.Level.CITY, parent=anhui)
    Region.objects.create(code="341502", name="金安区", level=Region.Level.COUNTY, parent=city)
    Region.objects.create(code="341523", name="舒城县", level=Region.Level.COUNTY, parent=city)
    ServiceHall.objects.create(
        name="六安市政务服务中心",
        kind=ServiceHall.Kind.CENTRE,
        region=city,
        address="六安市金安区梅山南路与皋城路交口",
        opening_hours=[
            {"days": [1, 2, 3, 4, 5], "open": "09:00", "close": "12:00"},
            {"days": [1, 2, 3, 4, 5], "open": "13:30", "close": "17:00"},
        ],
        hours_note="法定节假日除外",
        phone="0564-3379000",
    )
    return city


def test_home_shows_region_counties_and_halls_in_chinese(client, luan):
    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans"' in html
    assert "<title>六安市一体化政务服务平台</title>" in html
    assert "安徽省六安市" in html
    assert 'href="/services/?region=341502">金安区</a>' in html
    assert "舒城县" in html
    assert "六安市政务服务中心" in html
    assert "周一至周五 09:00-12:00、13:30-17:00" in html
    assert 'href="tel:0564-3379000"' in html
    # One prominent search, labelled, going to the catalogue's search page.
    assert 'action="/services/search/"' in html
    assert '<label for="home-search">' in html
    assert 'href="/services/"' in html and 'href="/accounts/me/"' in html
    assert "Content-Security-Policy" in response.headers
    assert_csp_clean(html)


def test_home_without_reference_data_still_renders(client, db):
    response = client.get("/")

    assert response.status_code == 200
    assert "暂无服务大厅信息" in response.content.decode()


def test_portal_header_shows_login_or_the_signed_in_user(client, luan, django_user_model):
    assert 'href="/accounts/login/"' in client.get("/").content.decode()

    user = django_user_model.objects.create_user(username="zhangsan", password="pw-12345678")
    client.force_login(user)
    html = client.get("/").content.decode()

    assert "zhangsan" in html
    assert 'action="/accounts/logout/"' in html
    assert 'href="/accounts/login/"' not in html


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("url", "status", "title"),
    [
        ("/__test__/400/", 400, "请求有误"),
        ("/__test__/403/", 403, "无权访问"),
        ("/no-such-page/", 404, "页面不存在"),
    ],
)
def test_error_pages_are_chinese_with_a_way_back(client, db, settings, url, status, title):
    settings.DEBUG = False

    response = client.get(url)

    assert response.status_code == status
    html = response.content.decode()
    assert f"<h1>{title}</h1>" in html
    assert '<a class="btn" href="/">返回首页</a>' in html
    assert '<html lang="zh-Hans"' in html
    assert_csp_clean(html)


@pytest.mark.urls(__name__)
def test_server_error_page_renders_without_request_context(db, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)

    response = client.get("/__test__/500/", headers={"X-Request-ID": "abcdef12-3456"})

    assert response.status_code == 500
    html = response.content.decode()
    assert "<h1>系统繁忙</h1>" in html
    assert "六安市一体化政务服务平台" in html  # platform name passed explicitly, no context processors
    assert "abcdef12-3456" in html  # the request id people can quote to the hotline
    assert '<a class="btn" href="/">返回首页</a>' in html
    assert_csp_clean(html)


@pytest.mark.urls(__name__)
def test_api_errors_stay_json(db, settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/api/no-such-endpoint")

    assert response.status_code == 404
    assert response.json()["message"]


def test_csrf_failure_page_is_chinese(db):
    client = Client(enforce_csrf_checks=True)

    response = client.post("/display/elder-mode/", {"enabled": "1", "next": "/"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "页面已过期" in html
    assert "返回首页" in html


def test_elder_mode_switch_sets_cookie_and_changes_the_page(client, luan):
    response = client.post("/display/elder-mode/", {"enabled": "1", "next": "/?from=test"})

    assert response.status_code == 302
    assert response["Location"] == "/?from=test"
    cookie = response.cookies[ELDER_MODE_COOKIE]
    assert cookie.value == "1"
    assert cookie["max-age"] >= 30 * 24 * 3600
    html = client.get("/").content.decode()
    assert '<html lang="zh-Hans" class="elder-mode">' in html
    assert 'class="portal elder-mode"' in html
    assert "退出适老化模式" in html
    assert "已开启适老化模式" in html  # confirmation message

    client.post("/display/elder-mode/", {"enabled": "0", "next": "/"})
    assert client.cookies[ELDER_MODE_COOKIE].value == "0"
    assert "elder-mode" not in client.get("/").content.decode().split("<body", 1)[1].split(">", 1)[0]


def test_elder_mode_is_remembered_on_the_account(luan, django_user_model):
    user = django_user_model.objects.create_user(username="lisi", password="pw-12345678")
    first_browser = Client()
    first_browser.force_login(user)

    first_browser.post("/display/elder-mode/", {"enabled": "1", "next": "/"})

    user.refresh_from_db()
    assert user.elder_mode is True
    other_browser = Client()  # no cookie: the preference comes from the account
    other_browser.force_login(user)
    assert 'class="portal elder-mode"' in other_browser.get("/").content.decode()


def test_elder_mode_chosen_before_login_survives_login(luan, django_user_model):
    user = django_user_model.objects.create_user(username="wangwu", password="pw-12345678")
    browser = Client()
    browser.post("/display/elder-mode/", {"enabled": "1", "next": "/"})

    browser.force_login(user)  # the account's own setting is still off

    assert 'class="portal elder-mode"' in browser.get("/").content.decode()


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_elder_mode_switch_rejects_off_site_next(client, db, target):
    response = client.post("/display/elder-mode/", {"enabled": "1", "next": target})

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_elder_mode_switch_only_accepts_post(client, db):
    assert client.get("/display/elder-mode/?enabled=1").status_code == 405
