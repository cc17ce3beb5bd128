"""In a real browser on a phone (390×844): register with phone + SMS code + ID number of a
resident known to the population source, log out, log in, see the masked ID number.

Chromium runs in its own thread with its own Playwright instance (tests/browser/threaded.py):
importing the session-wide browser fixture of tests/browser here would start a second Playwright
in the same xdist worker, which breaks the tests/browser suite ("Sync API inside the asyncio loop")."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOT_DIR
from tests.browser.threaded import in_browser, session_cookie
from tongban.accounts import demo
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Person, PopulationRecord, SmsMessage
from tongban.core.identifiers import mask_resident_id

pytestmark = pytest.mark.browser


def latest_code(phone: str) -> str:
    message = SmsMessage.objects.filter(phone_index=blind_index(phone, "mobile")).order_by("-id").first()
    assert message is not None, "no SMS in the outbox"
    return re.search(r"\d{6}", message.text).group(0)


def in_phone_browser(steps, cookie: dict | None = None) -> None:
    """Run ``steps(page, problems, shot)`` in a 390×844 Chromium page in a fresh thread."""

    def with_shot(page, problems):
        def shot(name: str) -> None:
            SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT_DIR / f"{name}-phone.png"), full_page=True)

        steps(page, problems, shot)

    # the steps read the SMS outbox from Playwright's thread
    in_browser(with_shot, cookie, "phone", join=120, allow_async_unsafe=True)


def test_register_login_and_see_masked_id_on_a_phone(live_server):
    phone, name, number, _registered = demo.PEOPLE[2]  # 赵秀英: in the population source, no account
    PopulationRecord.objects.create(name=name, id_index=blind_index(number, "resident-id"))
    password = "Zxy-2025-secret"
    masked = mask_resident_id(number)

    def steps(page, problems, shot):
        page.goto(live_server.url + "/accounts/register/")
        page.get_by_label("手机号码").fill(phone)
        page.get_by_role("button", name="获取验证码").click()
        page.wait_for_load_state("load")
        expect(page.get_by_text("验证码已发送")).to_be_visible()
        shot("register-code-sent")

        page.get_by_label("短信验证码").fill(latest_code(phone))
        page.get_by_label("姓名").fill(name)
        page.get_by_label("公民身份号码").fill(number)
        page.locator("#id_password").fill(password)
        shot("register-filled")
        page.get_by_role("button", name="注册", exact=True).click()
        page.wait_for_url("**/accounts/me/")

        page.get_by_role("button", name="退出").first.click()
        page.wait_for_load_state("load")
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("手机号码或账号").fill(phone)
        page.locator("#id_password").fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        page.wait_for_url("**/accounts/me/")

        body = page.locator("main").inner_text()
        assert masked in body and "L2" in body
        assert number not in page.content()
        # clientWidth, not innerWidth: a mobile browser widens innerWidth to fit whatever overflows.
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        assert page.evaluate("window.__cspViolations") == []
        assert problems == []
        shot("personal-centre")

    in_phone_browser(steps)

    assert Person.objects.get(id_index=blind_index(number, "resident-id")).level == 2


def test_workbench_staff_and_person_pages_on_a_phone(live_server):
    from django.test import Client

    from tests.accounts.conftest import verified_login
    from tests.accounts.helpers import make_citizen, make_staff, resident_id
    from tests.core.factories import CityFactory, CountyFactory, OrganisationFactory, ProvinceFactory
    from tongban.accounts.models import Role

    county = CountyFactory(
        code="341502", parent=CityFactory(code="341500", parent=ProvinceFactory(code="340000"))
    )
    dept = OrganisationFactory(region=county)
    admin = make_staff(username="wb-admin", department=dept, roles=[Role.SYSTEM_ADMIN, Role.WINDOW_CLERK])
    clerk = make_staff(username="wb-clerk", department=dept, roles=[Role.WINDOW_CLERK])
    number = resident_id(9, region="341502")
    make_citizen(name="钱多多", phone="13977770001", id_number=number, level=2)
    client = Client()
    verified_login(client, admin)
    cookie = session_cookie(client, live_server.url)

    def fits(page) -> bool:
        return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")

    def steps(page, problems, shot):
        page.goto(f"{live_server.url}/accounts/workbench/staff/{clerk.staff_profile.pk}/")
        expect(page.get_by_role("button", name="重置动态口令设备")).to_be_visible()
        assert fits(page)
        shot("workbench-staff-detail")
        page.get_by_role("button", name="重置密码").click()
        page.wait_for_load_state("load")
        expect(page.get_by_text("只显示这一次")).to_be_visible()
        page.goto(f"{live_server.url}/accounts/workbench/staff/new/")
        assert fits(page)
        shot("workbench-staff-new")
        page.goto(f"{live_server.url}/accounts/workbench/persons/")
        page.get_by_label("手机号码或公民身份号码").fill("13977770001")
        page.get_by_role("button", name="查询").click()
        page.wait_for_load_state("load")
        assert mask_resident_id(number) in page.locator("main").inner_text()
        page.get_by_label("查看事由").fill("核验身份")
        page.get_by_role("button", name="查看完整号码").click()
        page.wait_for_load_state("load")
        assert number in page.locator("main").inner_text()
        assert fits(page)
        assert problems == []
        shot("workbench-person-revealed")

    in_phone_browser(steps, cookie)
