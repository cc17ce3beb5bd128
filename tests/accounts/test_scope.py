"""Data scope matrix: every role × (own dept same region, own dept sub-region, other department,
other region, own department's record filed in another region, assigned to me). Zero leaks."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.helpers import make_citizen, make_staff, resident_id
from tests.accounts.scopeapp.models import ScopedRecord
from tests.core.factories import CityFactory, CountyFactory, OrganisationFactory, ProvinceFactory, TownFactory
from tongban.accounts.models import Role, StaffProfile
from tongban.accounts.scope import DEPARTMENT_ROLES, scope_for

pytestmark = pytest.mark.django_db

CASES = ["own", "sub_region", "other_department", "other_region", "own_department_elsewhere", "assigned"]
DEPT = {
    "own": True,
    "sub_region": True,
    "other_department": False,
    "other_region": False,
    "own_department_elsewhere": False,
    "assigned": True,
}
SUPERVISOR_SEE = {**DEPT, "other_department": True}
SUPERVISOR_CHANGE = {case: case == "assigned" for case in CASES}
EVERYTHING = dict.fromkeys(CASES, True)
NOTHING = dict.fromkeys(CASES, False)


@pytest.fixture
def world():
    province = ProvinceFactory()
    city, other_city = CityFactory(parent=province), CityFactory(parent=province)
    county = CountyFactory(parent=city)
    town = TownFactory(parent=county)
    dept = OrganisationFactory(region=city, name="测试市场监管局")
    other_dept = OrganisationFactory(region=city, name="测试公安局")
    dept_elsewhere = OrganisationFactory(region=other_city, name="他市市场监管局")
    return {
        "city": city,
        "other_city": other_city,
        "county": county,
        "town": town,
        "dept": dept,
        "other_dept": other_dept,
        "dept_elsewhere": dept_elsewhere,
    }


def records_for(world, user):
    w = world
    make = ScopedRecord.objects.create
    return {
        "own": make(label="own", region=w["city"], department=w["dept"]),
        "sub_region": make(label="sub_region", region=w["town"], department=w["dept"]),
        "other_department": make(label="other_department", region=w["county"], department=w["other_dept"]),
        "other_region": make(label="other_region", region=w["other_city"], department=w["dept_elsewhere"]),
        "own_department_elsewhere": make(
            label="own_department_elsewhere", region=w["other_city"], department=w["dept"]
        ),
        "assigned": make(
            label="assigned", region=w["other_city"], department=w["dept_elsewhere"], assignee=user
        ),
    }


FIELDS = {"region_field": "region", "department_field": "department", "assignee_field": "assignee"}


def expected_for(role):
    if role == Role.SYSTEM_ADMIN:
        return EVERYTHING, EVERYTHING
    if role == Role.SUPERVISOR:
        return SUPERVISOR_SEE, SUPERVISOR_CHANGE
    assert role in DEPARTMENT_ROLES
    return DEPT, DEPT


def check(user, records, see, change):
    scope = scope_for(user)
    visible = set(scope.filter(ScopedRecord.objects.all(), **FIELDS).values_list("label", flat=True))
    writable = set(
        scope.filter(ScopedRecord.objects.all(), write=True, **FIELDS).values_list("label", flat=True)
    )
    assert visible == {c for c in CASES if see[c]}
    assert writable == {c for c in CASES if change[c]}
    for case, record in records.items():
        # Read with its region the record is decided in Python, without it in SQL: same answers.
        with_region = ScopedRecord.objects.select_related("region").get(pk=record.pk)
        without_region = ScopedRecord.objects.get(pk=record.pk)
        with CaptureQueriesContext(connection) as in_python:
            assert scope.can_see(with_region, **FIELDS) is see[case], case
            assert scope.can_change(with_region, **FIELDS) is change[case], case
        assert not in_python.captured_queries
        assert scope.can_see(without_region, **FIELDS) is see[case], case
        assert scope.can_change(without_region, **FIELDS) is change[case], case


@pytest.mark.parametrize("role", Role.values)
def test_matrix(world, role):
    user = make_staff(username=f"s-{role}", department=world["dept"], region=world["city"], roles=[role])
    records = records_for(world, user)
    see, change = expected_for(role)
    check(user, records, see, change)


def test_citizen_sees_nothing_even_if_assigned(world, next_phone):
    person = make_citizen(name="张三", phone=next_phone(), id_number=resident_id(5))
    records = records_for(world, person.user)
    check(person.user, records, NOTHING, NOTHING)


def test_staff_without_roles_and_inactive_staff_see_only_nothing(world):
    no_role = make_staff(username="s-none", department=world["dept"], region=world["city"])
    records = records_for(world, no_role)
    check(no_role, records, {c: c == "assigned" for c in CASES}, {c: c == "assigned" for c in CASES})
    StaffProfile.objects.filter(user=no_role).update(is_active=False)
    check(no_role, records, NOTHING, NOTHING)


def test_anonymous_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert not scope_for(AnonymousUser()).filter(ScopedRecord.objects.all(), **FIELDS).exists()


def test_county_staff_see_neither_the_city_above_nor_a_sibling_county(world):
    sibling = CountyFactory(parent=world["city"])
    user = make_staff(
        username="s-county",
        department=world["dept"],
        region=world["county"],
        roles=[Role.WINDOW_CLERK, Role.SUPERVISOR],
    )
    above = ScopedRecord.objects.create(label="city", region=world["city"], department=world["dept"])
    side = ScopedRecord.objects.create(label="sibling", region=sibling, department=world["dept"])
    below = ScopedRecord.objects.create(label="town", region=world["town"], department=world["other_dept"])
    scope = scope_for(user)
    assert not scope.can_see(above, **FIELDS) and not scope.can_see(side, **FIELDS)
    assert scope.can_see(below, **FIELDS) and not scope.can_change(below, **FIELDS)  # supervisor: read only


def test_one_query_with_path_prefix(world):
    user = make_staff(
        username="s-q", department=world["dept"], region=world["city"], roles=[Role.APPROVER, Role.SUPERVISOR]
    )
    scope = scope_for(user)
    with CaptureQueriesContext(connection) as ctx:
        list(scope.filter(ScopedRecord.objects.all(), **FIELDS))
    assert len(ctx.captured_queries) == 1
    assert "LIKE" in ctx.captured_queries[0]["sql"].upper()


def test_department_head_can_approve_extensions_others_cannot(world):
    head = make_staff(
        username="s-head", department=world["dept"], region=world["city"], roles=[Role.DEPARTMENT_HEAD]
    )
    clerk = make_staff(
        username="s-clerk", department=world["dept"], region=world["city"], roles=[Role.WINDOW_CLERK]
    )
    assert scope_for(head).can_approve_extensions and not scope_for(clerk).can_approve_extensions


def test_works_on_real_models_service_halls(world):
    """The same layer on an existing model: halls by region and operating department."""
    from tests.core.factories import ServiceHallFactory

    user = make_staff(
        username="s-hall", department=world["dept"], region=world["county"], roles=[Role.HALL_MANAGER]
    )
    mine = ServiceHallFactory(region=world["town"], operator=world["dept"])
    ServiceHallFactory(region=world["town"], operator=world["other_dept"])
    ServiceHallFactory(region=world["city"], operator=world["dept"])
    halls = scope_for(user).filter(
        mine.__class__.objects.all(), region_field="region", department_field="operator"
    )
    assert list(halls) == [mine]
