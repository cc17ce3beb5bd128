"""The demo reference data: loads, is idempotent, honours the departments contract."""

import hashlib
import io
import json

import pytest
from django.core.management import call_command

from tongban.core import demo, services
from tongban.core.identifiers import validate_credit_code
from tongban.core.models import (
    AuditEvent,
    CalendarDay,
    CalendarYear,
    Organisation,
    Region,
    ServiceHall,
    Window,
)

MODELS = [
    Region,
    Organisation,
    ServiceHall,
    Window,
    Window.organisations.through,
    AuditEvent,
    CalendarYear,
    CalendarDay,
]


def snapshot() -> tuple[dict[str, int], str]:
    """Row counts and one hash over every column of every row."""
    counts, digest = {}, hashlib.sha256()
    for model in MODELS:
        rows = list(model.objects.order_by("pk").values())
        counts[model._meta.label] = len(rows)
        digest.update(json.dumps(rows, default=str, sort_keys=True, ensure_ascii=False).encode())
    return counts, digest.hexdigest()


@pytest.fixture
def loaded(db):
    demo.load(io.StringIO())


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    first = snapshot()
    call_command("load_demo", stdout=out)
    assert snapshot() == first
    assert "新增 0 条，更新 0 条" in out.getvalue()
    assert first[0]["core.Region"] == len(demo.REGIONS)


@pytest.mark.django_db
def test_a_changed_row_is_put_back_through_the_services(loaded):
    hall = ServiceHall.objects.get(name="六安市政务服务中心")
    hall.phone = "0564-0000000"
    hall.save()
    demo.load(None)
    hall.refresh_from_db()
    assert hall.phone == "12345"
    assert AuditEvent.objects.filter(action="hall.update", object_id=str(hall.pk)).exists()


def test_every_demo_region_code_is_well_formed_and_extends_its_parent():
    levels = {}
    for code, _name, parent_code in demo.REGIONS:
        level = services.infer_region_level(code)
        assert level is not None, code
        levels[code] = level
        if parent_code:
            assert levels[parent_code] == level - 1
            services.validate_region_parent(code, level, Region(code=parent_code, level=levels[parent_code]))


@pytest.mark.django_db
def test_region_tree_of_the_demo(loaded):
    luan = Region.objects.get(code="341500")
    counties = set(luan.children.values_list("code", flat=True))
    assert counties == set(demo.COUNTY_CODES)
    assert Region.objects.get(code="341502001000").full_name == "安徽省六安市金安区中市街道"
    assert Region.objects.get(code="510923107000").full_name == "四川省遂宁市大英县象山镇"
    village = Region.objects.get(code="341523114204")
    assert village.level == Region.Level.VILLAGE
    assert services.is_within(village, luan)


@pytest.mark.django_db
def test_departments_contract(loaded):
    for region_code in [demo.CITY_CODE, *demo.COUNTY_CODES]:
        region = Region.objects.get(code=region_code)
        for key, (_name, short_name) in demo.DEPARTMENTS.items():
            organisation = demo.department(region_code, key)
            assert organisation.region == region
            assert validate_credit_code(organisation.credit_code) == organisation.credit_code
            assert organisation.credit_code.startswith("11" + region_code)
            assert organisation.short_name == short_name


@pytest.mark.django_db
def test_department_names(loaded):
    assert demo.department("341500", "market").name == "六安市市场监督管理局"
    assert demo.department("341502", "market").name == "金安区市场监督管理局"
    assert demo.department("341500", "tax").name == "国家税务总局六安市税务局"
    assert demo.department("341502", "tax").name == "国家税务总局六安市金安区税务局"
    branch = demo.department("341502", "fund")
    assert branch.name == "六安市住房公积金管理中心金安区管理部"
    assert branch.parent == demo.department("341500", "fund")
    with pytest.raises(KeyError):
        demo.department("341502", "nope")


@pytest.mark.django_db
def test_halls_and_windows_per_contract(loaded):
    hall = ServiceHall.objects.get(region__code="341502", kind=ServiceHall.Kind.CENTRE)
    assert hall.operator == demo.department("341502", "data")
    windows = {w.number: w for w in hall.windows.prefetch_related("organisations")}
    kinds = [windows[str(n)].kind for n in range(1, 7)]
    assert kinds == [Window.Kind.COMPREHENSIVE] * 6
    assert windows["7"].kind == Window.Kind.DELIVERY
    assert windows["8"].kind == Window.Kind.HELP
    assert [o.short_name for o in windows["9"].organisations.all()] == ["公安"]
    assert [o.short_name for o in windows["10"].organisations.all()] == ["税务"]
    assert {o.short_name for o in windows["11"].organisations.all()} == {"自然资源", "税务", "住建"}
    for town in Region.objects.filter(level=Region.Level.TOWN):
        assert town.halls.filter(kind=ServiceHall.Kind.TOWN_CENTRE).count() == 1
    for village in Region.objects.filter(level=Region.Level.VILLAGE):
        assert village.halls.filter(kind=ServiceHall.Kind.VILLAGE_STATION).count() == 1


@pytest.mark.django_db
def test_calendar_is_seeded(loaded):
    assert CalendarYear.objects.filter(year=2026).exists()
