"""Resident ID numbers, unified social credit codes, mobile numbers and masking."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from ninja import NinjaAPI, Schema
from ninja.testing import TestClient
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from tongban.core.api import install_error_handlers
from tongban.core.forms_fields import CreditCodeField, MobileNumberField, ResidentIdField
from tongban.core.identifiers import (
    CREDIT_CODE_ALPHABET,
    credit_code_check_char,
    mask_mobile,
    mask_name,
    mask_resident_id,
    resident_id_check_char,
    validate_credit_code,
    validate_mobile,
    validate_resident_id,
)
from tongban.core.schemas import CreditCode, MobileNumber, ResidentId


def code_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    return excinfo.value.code


def resident_id(region: str, birth: str, seq: str) -> str:
    first17 = region + birth + seq
    return first17 + resident_id_check_char(first17)


def credit_code(first17: str) -> str:
    return first17 + credit_code_check_char(first17)


# -- resident ID --------------------------------------------------------------------------------
class TestResidentId:
    def test_example_from_the_standard(self):
        # GB 11643-1999 Appendix example: 北京市朝阳区, born 1949-12-31, female, check character X.
        check = validate_resident_id("11010519491231002X")
        assert check.number == "11010519491231002X"
        assert check.birth_date == date(1949, 12, 31)
        assert check.gender == "女"
        assert check.region_code == "110105"
        assert check.warnings == []

    def test_lower_case_x_and_spaces_are_normalised(self):
        assert validate_resident_id(" 110105 19491231 002x ").number == "11010519491231002X"

    def test_male_from_odd_sequence_digit(self):
        number = resident_id("341502", "19900101", "123")
        assert number == "341502199001011239"
        assert validate_resident_id(number).gender == "男"

    @pytest.mark.parametrize(
        ("value", "code", "text"),
        [
            ("", "resident-id-required", "请填写身份证号码"),
            ("341502900101123", "resident-id-old-format", "请填写 18 位居民身份证号码"),
            ("34150219900101123", "resident-id-length", "应为 18 位，当前为 17 位"),
            ("34150219900101123A", "resident-id-format", "最后一位为数字或 X"),
            ("3415021990010X1239", "resident-id-format", "前 17 位应为数字"),
            ("341502199001011238", "resident-id-checksum", "校验位不正确"),
        ],
    )
    def test_rejected(self, value, code, text):
        with pytest.raises(ValidationError) as excinfo:
            validate_resident_id(value)
        assert code_of(excinfo) == code
        assert text in excinfo.value.messages[0]

    @pytest.mark.parametrize(
        ("birth", "text"),
        [
            ("19900230", "出生日期 1990-02-30 不存在"),
            ("20230229", "出生日期 2023-02-29 不存在"),
            ("18991231", "早于 1900 年"),
            ("20991231", "晚于今天"),
        ],
    )
    def test_birth_date_is_a_hard_rule(self, birth, text):
        # A correct check character, so only the date can be the reason.
        with pytest.raises(ValidationError) as excinfo:
            validate_resident_id(resident_id("341502", birth, "123"))
        assert code_of(excinfo) == "resident-id-birth-date"
        assert text in excinfo.value.messages[0]

    def test_birth_date_after_given_today(self):
        number = resident_id("341502", "20200101", "123")
        assert validate_resident_id(number, today=date(2020, 1, 1)).birth_date == date(2020, 1, 1)
        with pytest.raises(ValidationError):
            validate_resident_id(number, today=date(2019, 12, 31))

    def test_unknown_region_is_only_a_warning(self):
        check = validate_resident_id(resident_id("341599", "19900101", "123"))
        assert check.region_code == "341599"
        assert len(check.warnings) == 1 and "341599" in check.warnings[0]
        assert validate_resident_id(resident_id("990000", "19900101", "123")).warnings

    def test_abolished_region_is_accepted_without_warning(self):
        # 342401 was the old 六安市 (county-level) until 1999; people born there keep the number.
        assert validate_resident_id(resident_id("342401", "19850612", "032")).warnings == []


regions = st.sampled_from(["110105", "341502", "341503", "341522", "510923", "440305", "342401"])
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31))
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")
valid_ids = st.builds(lambda r, b, s: resident_id(r, b.strftime("%Y%m%d"), s), regions, births, sequences)


@settings(max_examples=200)
@given(first17=st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_resident_check_char_agrees_with_stdnum(first17):
    # stdnum expects the number with a (placeholder) check character appended.
    assert resident_id_check_char(first17) == stdnum_ric.calc_check_digit(first17 + "0")


@settings(max_examples=200)
@given(number=valid_ids, data=st.data())
def test_every_generated_id_validates_and_any_single_change_is_rejected(number, data):
    check = validate_resident_id(number)
    assert check.number == number
    assert check.gender == ("男" if int(number[16]) % 2 else "女")
    position = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[position]]))
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        validate_resident_id(changed)


# -- unified social credit code -----------------------------------------------------------------
class TestCreditCode:
    @pytest.mark.parametrize(
        "code",
        [
            # 华为技术有限公司 — zh.wikipedia.org/wiki/华为 (infobox "机构代码").
            "914403001922038216",
            # 腾讯科技（深圳）有限公司 — public company registration records (e.g. its AIGC
            # content-producer label "0011" + this code, required by the 2025 labelling measures).
            "91440300708461136T",
        ],
    )
    def test_real_codes(self, code):
        assert validate_credit_code(code) == code
        assert stdnum_uscc.is_valid(code)  # an independent implementation agrees

    def test_weights_are_powers_of_three_mod_31(self):
        from tongban.core.identifiers import _CREDIT_WEIGHTS

        assert _CREDIT_WEIGHTS == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    @pytest.mark.parametrize(
        ("first17", "kind"),
        [
            ("N2341502MA2TXXXX1", "农民专业合作社 (农业农村部门登记)"),
            ("N1341522MA2N00001", "农村集体经济组织"),
            ("Y1110105MA0000001", "其他登记管理部门"),
            ("11341500003000001", "机关 (机构编制部门), 六安市"),
            ("52341502MJ0000001", "社会团体 (民政部门)"),
            ("91341500MA2TAAAA1", "企业 (市场监管部门)"),
        ],
    )
    def test_codes_may_start_with_letters(self, first17, kind):
        code = credit_code(first17)
        assert validate_credit_code(code.lower()) == code, kind

    def test_stdnum_would_reject_letter_prefixes(self):
        # Why we do not delegate: python-stdnum 2.2 refuses a valid "N2…" code.
        code = credit_code("N2341502MA2TXXXX1")
        assert validate_credit_code(code) == code
        assert not stdnum_uscc.is_valid(code)

    @pytest.mark.parametrize(
        ("value", "code", "text"),
        [
            ("", "credit-code-required", "请填写"),
            ("91440300708461136", "credit-code-length", "应为 18 位，当前为 17 位"),
            ("9144030070846I136T", "credit-code-characters", "不允许的字符：I"),
            ("91440300708461136O", "credit-code-characters", "不允许的字符：O"),
            ("91A40300708461136T", "credit-code-region", "第 3–8 位"),
            ("91440300708461136U", "credit-code-checksum", "校验位不正确"),
        ],
    )
    def test_rejected(self, value, code, text):
        with pytest.raises(ValidationError) as excinfo:
            validate_credit_code(value)
        assert code_of(excinfo) == code
        assert text in excinfo.value.messages[0]

    def test_check_char_needs_17_alphabet_characters(self):
        with pytest.raises(ValueError):
            credit_code_check_char("9144030070846113")
        with pytest.raises(ValueError):
            credit_code_check_char("9144030070846113S")


alphabet = st.sampled_from(CREDIT_CODE_ALPHABET)
valid_codes = st.builds(
    lambda a, b, region, body: credit_code(a + b + region + body),
    alphabet,
    alphabet,
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)


@settings(max_examples=300)
@given(code=valid_codes, data=st.data())
def test_every_generated_code_validates_and_any_single_change_is_rejected(code, data):
    assert validate_credit_code(code) == code
    position = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(
        st.sampled_from([c for c in CREDIT_CODE_ALPHABET + "IOZSV" if c != code[position]])
    )
    with pytest.raises(ValidationError):
        validate_credit_code(code[:position] + replacement + code[position + 1 :])


@settings(max_examples=200)
@given(code=valid_codes.filter(lambda c: c[:2].isdigit()))
def test_agrees_with_stdnum_where_stdnum_is_right(code):
    assert stdnum_uscc.calc_check_digit(code[:17]) == code[17]


# -- mobile numbers -----------------------------------------------------------------------------
class TestMobile:
    @pytest.mark.parametrize(
        "value",
        [
            "13800138000",
            "+86 138 0013 8000",
            "0086-13800138000",
            "8613800138000",
            "138-0013-8000",
            "(+86)13800138000",
        ],
    )
    def test_accepted_and_normalised(self, value):
        assert validate_mobile(value) == "13800138000"

    @pytest.mark.parametrize(
        ("value", "code"),
        [
            ("", "mobile-required"),
            ("12800138000", "mobile-format"),
            ("1380013800", "mobile-length"),
            ("138001380001", "mobile-length"),
            ("+1 415 555 0100", "mobile-country"),
            ("138OO138000", "mobile-format"),
            ("１３８００１３８０００", "mobile-format"),  # full-width digits are not ASCII digits
        ],
    )
    def test_rejected(self, value, code):
        with pytest.raises(ValidationError) as excinfo:
            validate_mobile(value)
        assert code_of(excinfo) == code
        assert "手机号码" in excinfo.value.messages[0] or code == "mobile-country"


mobiles = st.builds(
    lambda second, rest: "1" + second + rest,
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


@given(
    number=mobiles,
    prefix=st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "86"]),
    sep=st.sampled_from(["", " ", "-"]),
)
def test_mobile_variants_normalise(number, prefix, sep):
    typed = prefix + number[:3] + sep + number[3:7] + sep + number[7:]
    assert validate_mobile(typed) == number


# -- masking ------------------------------------------------------------------------------------
class TestMasking:
    def test_examples(self):
        assert mask_resident_id("341502199001011234") == "3415**********1234"
        assert mask_mobile("13800138000") == "138****8000"
        assert mask_name("张三") == "张*"
        assert mask_name("张小三") == "张*三"
        assert mask_name("欧阳小明") == "欧**明"

    def test_empty_and_short_input(self):
        assert mask_resident_id("") == mask_mobile(None) == mask_name("") == ""
        assert mask_resident_id("1234") == "****"
        assert mask_mobile("12345") == "*****"
        assert mask_name("张") == "*"


@given(number=valid_ids)
def test_masked_id_never_shows_birth_date_or_sequence_start(number):
    masked = mask_resident_id(number)
    assert len(masked) == 18
    assert masked == number[:4] + "*" * 10 + number[-4:]


@given(number=mobiles)
def test_masked_mobile_hides_the_middle(number):
    assert mask_mobile(number) == number[:3] + "****" + number[-4:]


@given(name=st.text(alphabet="张王李赵欧阳小明华", min_size=2, max_size=6))
def test_masked_name_keeps_only_first_and_last(name):
    masked = mask_name(name)
    assert len(masked) == len(name) and masked[0] == name[0]
    assert set(masked[1 : len(name) - 1]) <= {"*"} and masked[1] == "*"


# -- forms and API schemas ----------------------------------------------------------------------
class PersonForm(forms.Form):
    id_number = ResidentIdField(label="身份证号码")
    mobile = MobileNumberField(label="手机号码")
    company = CreditCodeField(label="统一社会信用代码", required=False)


class TestFormFields:
    def test_clean_to_normalised_values(self):
        form = PersonForm({"id_number": "11010519491231002x", "mobile": "+86 138 0013 8000", "company": ""})
        assert form.is_valid(), form.errors
        assert form.cleaned_data == {
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
            "company": "",
        }

    def test_errors_in_chinese(self):
        form = PersonForm(
            {"id_number": "341502199001011238", "mobile": "12800138000", "company": "91440300708461136U"}
        )
        assert not form.is_valid()
        assert "校验位不正确" in form.errors["id_number"][0]
        assert "手机号码不正确" in form.errors["mobile"][0]
        assert "统一社会信用代码校验位不正确" in form.errors["company"][0]
        assert form.errors.as_data()["id_number"][0].code == "resident-id-checksum"

    def test_required(self):
        form = PersonForm({})
        assert form.errors["id_number"] == ["此项为必填项。"]

    def test_mobile_widget_hints(self):
        html = str(PersonForm()["mobile"])
        assert 'inputmode="tel"' in html


class ApplicantIn(Schema):
    id_number: ResidentId
    mobile: MobileNumber
    company: CreditCode | None = None


@pytest.fixture(scope="module")
def api_client():
    api = NinjaAPI(urls_namespace="test-identifiers")
    install_error_handlers(api)

    @api.post("/applicants")
    def create(request, payload: ApplicantIn):
        return payload.dict()

    return TestClient(api)


class TestSchemas:
    def test_normalised(self):
        data = ApplicantIn(id_number="11010519491231002x", mobile=13800138000, company="91440300708461136t")
        assert (data.id_number, data.mobile, data.company) == (
            "11010519491231002X",
            "13800138000",
            "91440300708461136T",
        )

    def test_api_error_carries_the_chinese_message(self, api_client):
        response = api_client.post(
            "/applicants", json={"id_number": "341502199001011238", "mobile": "1380013800"}
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid-input"
        fields = {e["field"]: e["message"] for e in body["errors"]}
        assert fields["payload.id_number"].startswith("身份证号码校验位不正确")
        assert fields["payload.mobile"] == "手机号码应为 11 位，当前为 10 位。"

    def test_api_accepts_valid_input(self, api_client):
        response = api_client.post(
            "/applicants",
            json={"id_number": "11010519491231002X", "mobile": "0086-13800138000", "company": None},
        )
        assert response.status_code == 200
        assert response.json()["mobile"] == "13800138000"
