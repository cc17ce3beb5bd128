"""Registration, SMS codes and login: wrong / expired / reused codes, rate limits, lockout."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.accounts.helpers import resident_id
from tongban.accounts import services, smscodes
from tongban.accounts.models import Person, RealNameLevel, SmsCode, SmsMessage, User
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def last_code(phone: str) -> str:
    from tongban.accounts.crypto import blind_index

    message = SmsMessage.objects.filter(phone_index=blind_index(phone, "mobile")).order_by("-id").first()
    return re.search(r"验证码 (\d{6})", message.text).group(1)


def send_register_code(client, phone):
    return client.post("/accounts/register/", {"phone": phone, "send_code": "1"})


def register_form(phone, code, **extra):
    data = {
        "phone": phone,
        "code": code,
        "name": "李四",
        "id_number": resident_id(2),
        "password": "Lisi-2024-pass",
        "submit": "1",
    }
    data.update(extra)
    return data


def test_register_with_sms_code_creates_l2_person_when_population_matches(client, population, next_phone):
    phone = next_phone()
    response = send_register_code(client, phone)
    assert "验证码已发送" in response.content.decode()
    response = client.post("/accounts/register/", register_form(phone, last_code(phone)))
    assert response.status_code == 302 and response["Location"] == "/accounts/me/"
    person = Person.objects.get()
    assert person.level == RealNameLevel.L2
    assert person.phone == phone and person.id_number == resident_id(2)
    page = client.get("/accounts/me/").content.decode()
    assert resident_id(2) not in page and phone not in page
    assert "3415**********" in page and "李*" in page
    assert AuditEvent.objects.filter(action="accounts.register").exists()


def test_register_without_population_match_is_l1(client, next_phone):
    phone = next_phone()
    send_register_code(client, phone)
    client.post(
        "/accounts/register/", register_form(phone, last_code(phone), name="赵六", id_number=resident_id(9))
    )
    assert Person.objects.get().level == RealNameLevel.L1


def test_wrong_code_is_refused_in_chinese_and_nothing_is_created(client, next_phone):
    phone = next_phone()
    send_register_code(client, phone)
    wrong = "000000" if last_code(phone) != "000000" else "111111"
    response = client.post("/accounts/register/", register_form(phone, wrong))
    assert "验证码不正确" in response.content.decode()
    assert not User.objects.exists() and not Person.objects.exists()
    assert SmsCode.objects.get().attempts == 1


def test_expired_code(client, next_phone):
    phone = next_phone()
    send_register_code(client, phone)
    SmsCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post("/accounts/register/", register_form(phone, last_code(phone)))
    assert "验证码已过期" in response.content.decode()
    assert not Person.objects.exists()


def test_reused_code(next_phone, population):
    phone = next_phone()
    smscodes.request_code(phone, smscodes.Purpose.REGISTER)
    code = last_code(phone)
    smscodes.verify_code(phone, smscodes.Purpose.REGISTER, code)
    with pytest.raises(ValidationError) as exc:
        smscodes.verify_code(phone, smscodes.Purpose.REGISTER, code)
    assert exc.value.code == "sms-code-used" and "已使用" in exc.value.messages[0]


def test_too_many_wrong_attempts_locks_the_code(next_phone):
    phone = next_phone()
    smscodes.request_code(phone, smscodes.Purpose.LOGIN)
    code = last_code(phone)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(ValidationError):
            smscodes.verify_code(phone, smscodes.Purpose.LOGIN, wrong)
    with pytest.raises(ValidationError) as exc:
        smscodes.verify_code(phone, smscodes.Purpose.LOGIN, code)  # even the right code now
    assert exc.value.code == "sms-code-locked"


def test_code_is_hashed_at_rest(next_phone):
    phone = next_phone()
    smscodes.request_code(phone, smscodes.Purpose.LOGIN)
    row = SmsCode.objects.get()
    assert last_code(phone) not in row.code_hash and len(row.code_hash) == 64


def test_rate_limit_per_phone_per_minute_and_day(next_phone, settings):
    phone = next_phone()
    smscodes.request_code(phone, smscodes.Purpose.LOGIN)
    with pytest.raises(ValidationError) as exc:
        smscodes.request_code(phone, smscodes.Purpose.LOGIN)
    assert exc.value.code == "sms-too-frequent" and "频繁" in exc.value.messages[0]
    # Age the first code past the interval and fill the day.
    SmsCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    for _ in range(settings.SMS_PER_PHONE_PER_DAY - 1):
        smscodes.request_code(phone, smscodes.Purpose.LOGIN)
        SmsCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    with pytest.raises(ValidationError) as exc:
        smscodes.request_code(phone, smscodes.Purpose.LOGIN)
    assert exc.value.code == "sms-daily-limit"


def test_rate_limit_per_ip(next_phone, settings):
    settings.SMS_PER_IP_PER_DAY = 3
    for _ in range(3):
        smscodes.request_code(next_phone(), smscodes.Purpose.LOGIN, ip="10.0.0.9")
    with pytest.raises(ValidationError) as exc:
        smscodes.request_code(next_phone(), smscodes.Purpose.LOGIN, ip="10.0.0.9")
    assert exc.value.code == "sms-ip-limit"
    smscodes.request_code(next_phone(), smscodes.Purpose.LOGIN, ip="10.0.0.10")  # other networks unaffected


def test_invalid_id_number_refused_before_code_is_spent(client, next_phone):
    phone = next_phone()
    send_register_code(client, phone)
    bad = resident_id(2)[:-1] + ("0" if resident_id(2)[-1] != "0" else "1")
    response = client.post("/accounts/register/", register_form(phone, last_code(phone), id_number=bad))
    assert "校验" in response.content.decode()
    assert SmsCode.objects.get().used_at is None and not Person.objects.exists()


def test_duplicate_id_number_refused(citizen, next_phone):
    phone = next_phone()
    smscodes.request_code(phone, smscodes.Purpose.REGISTER)
    with pytest.raises(ValidationError) as exc:
        services.register_citizen(
            phone=phone,
            code=last_code(phone),
            name="张小三",
            id_number=resident_id(1),
            password="Another-pass-2024",
        )
    assert exc.value.code == "id-taken"


def test_encrypted_at_rest(citizen):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, id_index FROM accounts_person WHERE id = %s", [citizen.pk])
        raw_id, raw_phone, index = cursor.fetchone()
    assert resident_id(1) not in raw_id and citizen.phone not in raw_phone
    assert resident_id(1) not in index
    assert Person.objects.get(pk=citizen.pk).id_number == resident_id(1)


def test_password_login_by_phone(client, citizen):
    response = client.post(
        "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "Zz-secret-2024"}
    )
    assert response.status_code == 302
    assert client.get("/accounts/me/").status_code == 200


def test_sms_login(client, citizen):
    client.post("/accounts/login/", {"tab": "sms", "phone": citizen.phone, "send_code": "1"})
    response = client.post(
        "/accounts/login/", {"tab": "sms", "phone": citizen.phone, "code": last_code(citizen.phone)}
    )
    assert response.status_code == 302
    assert client.get("/accounts/me/").status_code == 200


def test_lockout_after_five_wrong_passwords(client, citizen):
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "bad"}
        )
    response = client.post(
        "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "Zz-secret-2024"}
    )
    body = response.content.decode()
    assert response.status_code == 429 and "账号已临时锁定" in body
    from axes.models import AccessAttempt

    assert citizen.phone not in "".join(AccessAttempt.objects.values_list("username", flat=True))


def test_password_reset_ends_sessions(client, citizen, next_phone):
    other = client.__class__()
    other.post(
        "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "Zz-secret-2024"}
    )
    assert other.get("/accounts/me/").status_code == 200
    client.post("/accounts/password-reset/", {"phone": citizen.phone, "send_code": "1"})
    response = client.post(
        "/accounts/password-reset/",
        {"phone": citizen.phone, "code": last_code(citizen.phone), "password": "Brand-new-2025"},
    )
    assert response.status_code == 302
    assert other.get("/accounts/me/").status_code == 302  # the old session is gone
    assert (
        client.post(
            "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "Brand-new-2025"}
        ).status_code
        == 302
    )


def test_logout_everywhere(client, citizen):
    other = client.__class__()
    for c in (client, other):
        c.post(
            "/accounts/login/", {"tab": "password", "username": citizen.phone, "password": "Zz-secret-2024"}
        )
    assert "退出该设备" in client.get("/accounts/me/").content.decode()
    client.post("/accounts/me/logout-everywhere/")
    assert other.get("/accounts/me/").status_code == 302
    assert client.get("/accounts/me/").status_code == 302


def test_admin_site_login_survives_an_earlier_logout_everywhere(client, django_user_model):
    """Logins through any view (here the admin's) carry the current session version."""
    user = django_user_model.objects.create_superuser("root2", "r@example.com", "Root-pass-2024")
    services.end_all_sessions(user)
    user.refresh_from_db()
    client.post("/admin/login/", {"username": "root2", "password": "Root-pass-2024"})
    assert client.session["session_version"] == user.session_version == 1
    assert client.get("/admin/")["Location"] == "/accounts/staff/otp/"  # not logged out: asked for TOTP
