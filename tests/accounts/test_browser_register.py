"""In a real browser on a phone (390×844): register with phone + SMS code + ID number of a
resident known to the population source, log out, log in, see the masked ID number."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import _playwright_browser, browser_page, viewport  # noqa: F401
from tongban.accounts import demo
from tongban.accounts.crypto import blind_index
from tongban.accounts.models import Person, PopulationRecord, SmsMessage
from tongban.core.identifiers import mask_resident_id

pytestmark = pytest.mark.browser


def latest_code(phone: str) -> str:
    message = SmsMessage.objects.filter(phone_index=blind_index(phone, "mobile")).order_by("-id").first()
    assert message is not None, "no SMS in the outbox"
    return re.search(r"\d{6}", message.text).group(0)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_register_login_and_see_masked_id_on_a_phone(browser_page, live_server, transactional_db):  # noqa: F811
    phone, name, number, _registered = demo.PEOPLE[2]  # 赵秀英: in the population source, no account
    PopulationRecord.objects.create(name=name, id_index=blind_index(number, "resident-id"))
    password = "Zxy-2025-secret"

    page = browser_page.goto(live_server.url + "/accounts/register/")
    page.get_by_label("手机号码").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_load_state("load")
    assert page.get_by_text("验证码已发送").is_visible()
    browser_page.screenshot("register-code-sent")

    page.get_by_label("短信验证码").fill(latest_code(phone))
    page.get_by_label("姓名").fill(name)
    page.get_by_label("公民身份号码").fill(number)
    page.get_by_label("设置密码").fill(password)
    browser_page.screenshot("register-filled")
    page.get_by_role("button", name="注册", exact=True).click()
    page.wait_for_url("**/accounts/me/")
    assert Person.objects.get(id_index=blind_index(number, "resident-id")).level == 2

    page.get_by_role("button", name="退出").first.click()
    page.wait_for_load_state("load")
    page = browser_page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("手机号码或账号").fill(phone)
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url("**/accounts/me/")

    masked = mask_resident_id(number)
    body = page.locator("main").inner_text()
    assert masked in body
    assert number not in page.content()
    assert "L2" in body
    # clientWidth, not innerWidth: a mobile browser widens innerWidth to fit whatever overflows.
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    browser_page.assert_clean()
    browser_page.screenshot("personal-centre")
