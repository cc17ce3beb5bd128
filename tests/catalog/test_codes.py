import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from tests.catalog import factories
from tongban.catalog import codes, services

pytestmark = pytest.mark.django_db

types = st.sampled_from(codes.ItemType.values)
depts = st.sampled_from(sorted(codes.DEPARTMENT_CODES.values()))


@given(types, depts, st.integers(1, 9999), st.integers(0, 999))
def test_basic_code_round_trip(item_type, dept, main, sub):
    code = codes.make_basic_code(item_type, dept, main, sub)
    assert len(code) == 12
    parts = codes.parse_basic_code(code)
    assert parts == {"type": item_type, "dept": dept, "main": f"{main:04d}", "sub": f"{sub:03d}"}
    codes.validate_basic_code(code, item_type=item_type, is_sub_item=sub != 0)


@given(st.text(min_size=0, max_size=14))
def test_random_text_is_not_a_basic_code_unless_well_formed(value):
    try:
        codes.parse_basic_code(value)
    except ValidationError as exc:
        assert "基本编码" in exc.messages[0]
    else:
        assert codes.BASIC_CODE_RE.match(value)


@given(types, st.integers(1, 9999), st.sampled_from(["1", "2", "3", "4", "5", "6"]), st.integers(1, 99))
def test_implementation_and_handling_codes(item_type, main, level, seq):
    credit = factories.credit_code("341502")
    basic = codes.make_basic_code(item_type, "SCJ", main)
    impl = codes.make_implementation_code(credit, level, basic)
    assert len(impl) == 31 and impl.startswith(credit) and impl.endswith(basic) and impl[18] == level
    handling = codes.make_handling_code(impl, seq)
    assert len(handling) == 33
    assert codes.validate_handling_code(handling)["impl"] == impl


@given(st.integers(0, 16), st.sampled_from("0123456789ABCDEFGHJKLMNPQRTUWXY"))
def test_a_changed_credit_code_character_is_rejected(position, char):
    credit = factories.credit_code("341500")
    tampered = credit[:position] + char + credit[position + 1 :]
    code = tampered + "4" + "01SCJ0001000"
    if tampered == credit:
        assert codes.validate_implementation_code(code)
    else:
        with pytest.raises(ValidationError):
            codes.validate_implementation_code(code)


def test_type_and_level_mistakes_are_reported_in_chinese():
    with pytest.raises(ValidationError, match="类型位"):
        codes.validate_basic_code("01SCJ0001000", item_type="20")
    with pytest.raises(ValidationError, match="行使层级"):
        codes.make_implementation_code(factories.credit_code("341500"), "7", "01SCJ0001000")
    with pytest.raises(ValidationError, match="31 位"):
        codes.validate_implementation_code("11341500")


def test_generated_codes_are_sequential_per_type_and_department():
    first = factories.basic_item("食品经营许可")
    second = factories.basic_item("药品经营许可")
    sub = factories.basic_item("食品经营许可（新办）", parent=first)
    other_type = factories.basic_item("个体工商户登记", item_type="07")
    assert first.code == "01SCJ0001000"
    assert second.code == "01SCJ0002000"
    assert sub.code == "01SCJ0001001"
    assert other_type.code == "07SCJ0001000"


def test_same_item_in_two_counties_shares_the_basic_code():
    regions = factories.liuan()
    item = factories.basic_item()
    jinan = services.create_implementation(item, factories.department(regions["jinan"]))
    yuan = services.create_implementation(item, factories.department(regions["yuan"]))
    assert jinan.code[-12:] == yuan.code[-12:] == item.code
    assert jinan.code != yuan.code
    assert jinan.exercise_level == yuan.exercise_level == codes.ExerciseLevel.COUNTY
    assert jinan.handling_items.get().code == jinan.code + "01"


def test_same_department_cannot_implement_an_item_twice():
    org = factories.department(factories.liuan()["city"])
    item = factories.basic_item()
    services.create_implementation(item, org)
    with pytest.raises(ValidationError, match="已实施"):
        services.create_implementation(item, org)
