"""Business rules of the core app: reference data, halls and worker health.

Every rule is a small function raising ``django.core.exceptions.ValidationError`` with a stable
``code`` and a Chinese message, so the admin forms, the API and the demo loader share them. Every
state change goes through a ``save_*``/``create_*``/``update_*``/``delete_*`` function: one
transaction that also writes its audit event.

The working-day calendar lives in ``tongban.core.workdays`` and identifiers in
``tongban.core.identifiers``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from huey.contrib.djhuey import HUEY

from tongban.core.audit import record_event
from tongban.core.halls import validate_opening_hours
from tongban.core.models import Organisation, Region, ServiceHall, Window

HEARTBEAT_KEY = "tongban:worker-heartbeat"


def record_worker_heartbeat() -> None:
    HUEY.put(HEARTBEAT_KEY, time.time())


def worker_is_alive(max_age_seconds: int | None = None) -> bool:
    """True when a Huey consumer wrote its heartbeat recently (shared Huey storage)."""
    max_age = max_age_seconds or settings.WORKER_HEARTBEAT_SECONDS * 4
    try:
        beat = HUEY.get(HEARTBEAT_KEY, peek=True)
    except Exception:
        return False
    return beat is not None and time.time() - float(beat) <= max_age


def platform_region() -> Region | None:
    return Region.objects.filter(code=settings.PLATFORM_REGION_CODE).first()


def home_page_context() -> dict:
    region = platform_region()
    halls = ServiceHall.objects.filter(is_active=True).select_related("region")
    if region is not None:
        halls = halls.filter(region__path__startswith=region.path)
    # The city and county centres, city first; town and village stations belong on the service map.
    halls = list(halls.filter(kind=ServiceHall.Kind.CENTRE).order_by("region__level", "region__path")[:12])
    counties = list(region.children.filter(is_active=True)) if region is not None else []
    return {"region": region, "halls": halls, "counties": counties}


# ---------------------------------------------------------------------------------------------
# Regions (行政区划)
# ---------------------------------------------------------------------------------------------

Level = Region.Level
_SIX_DIGITS = re.compile(r"^\d{6}$")
_TWELVE_DIGITS = re.compile(r"^\d{12}$")

# How many leading digits a code shares with its parent's code, by the child's level.
_PARENT_PREFIX = {Level.CITY: 2, Level.COUNTY: 4, Level.TOWN: 6, Level.VILLAGE: 9}
_CODE_EXAMPLES = {
    Level.PROVINCE: "340000",
    Level.CITY: "341500",
    Level.COUNTY: "341502",
    Level.TOWN: "341502001000",
    Level.VILLAGE: "341523114204",
}


def _level_label(level: int) -> str:
    try:
        return Level(level).label
    except ValueError:
        return str(level)


def normalise_code(value: object) -> str:
    """Codes are typed by people: drop surrounding and inner spaces."""
    return re.sub(r"\s+", "", str(value or ""))


def validate_region_code(code: str, level: int) -> str:
    """The code's format for its level: GB/T 2260 (6 digits) for province/city/county, the
    statistics bureau's 12-digit 统计用区划代码 for town and village. Returns the normalised code."""
    code = normalise_code(code)
    if level not in Level.values:
        raise ValidationError(
            "区划层级不正确，应为省级、市级、县级、乡级或村级。", code="region-level-invalid"
        )
    example = _CODE_EXAMPLES[Level(level)]
    if level in (Level.PROVINCE, Level.CITY, Level.COUNTY):
        if not _SIX_DIGITS.match(code):
            raise ValidationError(
                f"区划代码“{code}”格式不正确：{_level_label(level)}区划代码应为 6 位数字（GB/T 2260），"
                f"例如 {example}。",
                code="region-code-format",
            )
        if code.startswith("00"):
            raise ValidationError(
                f"区划代码 {code} 不正确：前两位是省级代码，不能为 00。", code="region-code-format"
            )
        if level == Level.PROVINCE and not code.endswith("0000"):
            raise ValidationError(
                f"区划代码 {code} 不是省级代码：省级代码以 0000 结尾，例如 {example}。",
                code="region-code-level",
            )
        if level == Level.CITY and (not code.endswith("00") or code.endswith("0000")):
            raise ValidationError(
                f"区划代码 {code} 不是市级代码：市级代码以 00 结尾且不以 0000 结尾，例如 {example}。",
                code="region-code-level",
            )
        if level == Level.COUNTY and code.endswith("00"):
            raise ValidationError(
                f"区划代码 {code} 不是县级代码：县级代码不以 00 结尾，例如 {example}。",
                code="region-code-level",
            )
        return code
    if not _TWELVE_DIGITS.match(code):
        raise ValidationError(
            f"区划代码“{code}”格式不正确：{_level_label(level)}区划代码应为 12 位数字（统计用区划代码），"
            f"例如 {example}。",
            code="region-code-format",
        )
    if code[6:9] == "000":
        raise ValidationError(
            f"区划代码 {code} 不正确：第 7 到 9 位是乡级代码，不能为 000。", code="region-code-format"
        )
    if level == Level.TOWN and not code.endswith("000"):
        raise ValidationError(
            f"区划代码 {code} 不是乡级代码：乡级代码以 000 结尾，例如 {example}。", code="region-code-level"
        )
    if level == Level.VILLAGE and code.endswith("000"):
        raise ValidationError(
            f"区划代码 {code} 不是村级代码：村级代码的后 3 位不能为 000，例如 {example}。",
            code="region-code-level",
        )
    return code


def infer_region_level(code: str) -> int | None:
    """The level a well-formed code belongs to, or None when it fits none."""
    code = normalise_code(code)
    for level in Level.values:
        try:
            validate_region_code(code, level)
        except ValidationError:
            continue
        return level
    return None


def find_parent_region(parent_code: str) -> Region:
    """The parent named by code; an unknown code is the user's mistake, said in Chinese."""
    parent_code = normalise_code(parent_code)
    parent = Region.objects.filter(code=parent_code).first()
    if parent is None:
        raise ValidationError(f"上级区划代码 {parent_code} 不存在。", code="region-parent-unknown")
    return parent


def get_region(code: str) -> Region:
    """A region by its code, or a Chinese "不存在" error (used by API filters and lookups)."""
    code = normalise_code(code)
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise ValidationError(f"区划代码 {code} 不存在。", code="region-unknown")
    return region


def validate_region_parent(code: str, level: int, parent: Region | None) -> None:
    """Province has no parent; every other level sits exactly one level below its parent and its
    code extends the parent's (county 341502 under city 3415xx, village under its town's 9 digits)."""
    if level == Level.PROVINCE:
        if parent is not None:
            raise ValidationError("省级区划不能有上级区划。", code="region-parent-not-allowed")
        return
    if parent is None:
        raise ValidationError(f"{_level_label(level)}区划必须指定上级区划。", code="region-parent-required")
    if parent.level != level - 1:
        raise ValidationError(
            f"上级区划“{parent.name}”（{parent.code}）是{_level_label(parent.level)}，"
            f"{_level_label(level)}区划的上级应为{_level_label(level - 1)}区划。",
            code="region-parent-level",
        )
    width = _PARENT_PREFIX[Level(level)]
    expected = parent.code[:width]
    if code[:width] != expected:
        raise ValidationError(
            f"区划代码 {code} 与上级区划“{parent.name}”（{parent.code}）不一致：应以 {expected} 开头。",
            code="region-code-prefix",
        )


def validate_region(region: Region) -> None:
    """All rules for a region about to be saved (new or changed)."""
    region.code = validate_region_code(region.code, region.level)
    region.name = (region.name or "").strip()
    if not region.name:
        raise ValidationError("请填写区划名称。", code="region-name-required")
    parent = region.parent if region.parent_id else None
    validate_region_parent(region.code, region.level, parent)
    other = Region.objects.filter(code=region.code).exclude(pk=region.pk).first()
    if other is not None:
        raise ValidationError(f"区划代码 {region.code} 已存在（{other.name}）。", code="region-code-taken")
    if region.pk:
        before = Region.objects.filter(pk=region.pk).values("code", "level", "parent_id").first()
        moved = before and (
            before["code"] != region.code
            or before["level"] != region.level
            or before["parent_id"] != region.parent_id
        )
        if moved and Region.objects.filter(parent_id=region.pk).exists():
            # Descendant codes extend this code; changing it would silently break them.
            raise ValidationError(
                f"“{region.name}”已有下级区划，不能修改其代码、层级或上级区划。", code="region-has-children"
            )


def regions_below(region: Region, *, include_self: bool = True) -> QuerySet[Region]:
    """This region and everything below it: one indexed ``path`` prefix filter."""
    queryset = Region.objects.filter(path__startswith=region.path)
    return queryset if include_self else queryset.exclude(pk=region.pk)


def _path_of(region: Region) -> str:
    if region.path:
        return region.path
    parent_path = _path_of(region.parent) if region.parent_id else ""
    return parent_path + region.code + "/"


def is_within(region: Region, ancestor: Region) -> bool:
    """True when ``region`` is ``ancestor`` or lies below it."""
    return _path_of(region).startswith(_path_of(ancestor))


# ---------------------------------------------------------------------------------------------
# Shared field rules
# ---------------------------------------------------------------------------------------------

_PHONE_RE = re.compile(
    r"^(?:0\d{2,3}-?\d{7,8}(?:-\d{1,6})?"  # fixed line with area code, optional extension
    r"|1\d{2,4}"  # service numbers: 12345, 12366, 110
    r"|1[3-9]\d{9})$"  # mainland mobile
)


def validate_phone(value: str) -> str:
    """A fixed line such as 0564-3379001, a service number such as 12345, or a mobile number."""
    phone = normalise_code(value).replace("（", "(").replace("）", ")")
    if not _PHONE_RE.match(phone):
        raise ValidationError(
            f"电话号码“{value}”格式不正确：应为带区号的固定电话（如 0564-3379001）、"
            f"政务服务热线（如 12345）或 11 位手机号码。",
            code="phone-format",
        )
    return phone


# Roughly the mainland's extent; a hall outside it is a typo (swapped or mistyped numbers).
LONGITUDE_RANGE = (Decimal("73"), Decimal("136"))
LATITUDE_RANGE = (Decimal("3"), Decimal("54"))


def _as_decimal(value: object, label: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{label}“{value}”不是数字。", code="hall-coordinates-format") from None


def validate_coordinates(longitude: object, latitude: object) -> tuple[Decimal | None, Decimal | None]:
    """Both or neither; inside China (longitude 73–136 E, latitude 3–54 N)."""
    if longitude in (None, "") and latitude in (None, ""):
        return None, None
    if longitude in (None, "") or latitude in (None, ""):
        raise ValidationError("经度和纬度应同时填写或同时留空。", code="hall-coordinates-pair")
    lng, lat = _as_decimal(longitude, "经度"), _as_decimal(latitude, "纬度")
    if not LONGITUDE_RANGE[0] <= lng <= LONGITUDE_RANGE[1]:
        raise ValidationError(
            f"经度 {lng} 超出范围：我国境内约为东经 73 到 136 度。请检查是否与纬度填反。",
            code="hall-longitude-range",
        )
    if not LATITUDE_RANGE[0] <= lat <= LATITUDE_RANGE[1]:
        raise ValidationError(
            f"纬度 {lat} 超出范围：我国境内约为北纬 3 到 54 度。请检查是否与经度填反。",
            code="hall-latitude-range",
        )
    return lng, lat


# ---------------------------------------------------------------------------------------------
# Organisations (部门/机构)
# ---------------------------------------------------------------------------------------------


def validate_organisation(organisation: Organisation) -> None:
    """Name, a valid and unused unified social credit code, a region, and a parent body in the
    same region or a higher one (a county bureau may sit under a city bureau, not the reverse)."""
    from tongban.core.identifiers import validate_credit_code

    organisation.name = (organisation.name or "").strip()
    if not organisation.name:
        raise ValidationError("请填写机构名称。", code="organisation-name-required")
    organisation.credit_code = validate_credit_code(organisation.credit_code)
    other = (
        Organisation.objects.filter(credit_code=organisation.credit_code).exclude(pk=organisation.pk).first()
    )
    if other is not None:
        raise ValidationError(
            f"统一社会信用代码 {organisation.credit_code} 已被“{other.name}”使用。",
            code="organisation-credit-code-taken",
        )
    if not organisation.region_id:
        raise ValidationError("请选择机构所属区划。", code="organisation-region-required")
    if organisation.phone:
        organisation.phone = validate_phone(organisation.phone)
    if organisation.parent_id:
        parent = organisation.parent
        node: Organisation | None = parent
        while node is not None:
            if organisation.pk and node.pk == organisation.pk:
                raise ValidationError("上级机构不能是本机构或其下级机构。", code="organisation-parent-cycle")
            node = node.parent if node.parent_id else None
        if not is_within(organisation.region, parent.region):
            raise ValidationError(
                f"上级机构“{parent.name}”属于{parent.region.full_name}，"
                f"不是本机构所属区划“{organisation.region.full_name}”的同级或上级。",
                code="organisation-parent-region",
            )


# ---------------------------------------------------------------------------------------------
# Halls (政务服务中心/便民服务中心/便民服务站) and windows (窗口)
# ---------------------------------------------------------------------------------------------

_HALL_LEVELS = {
    ServiceHall.Kind.CENTRE: (Level.PROVINCE, Level.CITY, Level.COUNTY),
    ServiceHall.Kind.TOWN_CENTRE: (Level.TOWN,),
    ServiceHall.Kind.VILLAGE_STATION: (Level.VILLAGE,),
}


def validate_hall(hall: ServiceHall) -> None:
    hall.name = (hall.name or "").strip()
    hall.address = (hall.address or "").strip()
    if not hall.name:
        raise ValidationError("请填写大厅名称。", code="hall-name-required")
    if not hall.address:
        raise ValidationError("请填写大厅地址。", code="hall-address-required")
    if not hall.region_id:
        raise ValidationError("请选择大厅所属区划。", code="hall-region-required")
    levels = _HALL_LEVELS.get(hall.kind)
    if levels and hall.region.level not in levels:
        allowed = "、".join(_level_label(level) for level in levels)
        raise ValidationError(
            f"{ServiceHall.Kind(hall.kind).label}应设在{allowed}区划，“{hall.region.name}”是{_level_label(hall.region.level)}。",
            code="hall-kind-level",
        )
    validate_opening_hours(hall.opening_hours)
    hall.longitude, hall.latitude = validate_coordinates(hall.longitude, hall.latitude)
    if hall.phone:
        hall.phone = validate_phone(hall.phone)
    if hall.operator_id and not is_within(hall.region, hall.operator.region):
        raise ValidationError(
            f"管理机构“{hall.operator.name}”不属于大厅所在区划“{hall.region.name}”或其上级。",
            code="hall-operator-region",
        )


def validate_window(window: Window, organisations: Iterable[Organisation] | None) -> None:
    """Window number unique in its hall; a dedicated window names at least one department; the
    departments belong to the hall's region, one of its parents, or one of its children."""
    window.number = (window.number or "").strip()
    window.name = (window.name or "").strip()
    if not window.number:
        raise ValidationError("请填写窗口号。", code="window-number-required")
    if not window.name:
        raise ValidationError("请填写窗口名称。", code="window-name-required")
    try:
        hall = window.hall  # may be an unsaved hall while the admin adds hall and windows together
    except Window.hall.RelatedObjectDoesNotExist:
        hall = None
    taken = Window.objects.filter(hall_id=getattr(hall, "pk", None), number=window.number).exclude(
        pk=window.pk
    )
    if hall is not None and hall.pk and taken.exists():
        raise ValidationError(f"“{hall.name}”已有 {window.number} 号窗口。", code="window-number-taken")
    organisations = list(organisations or [])
    if window.kind == Window.Kind.DEDICATED and not organisations:
        raise ValidationError("专项窗口至少要选择一个进驻部门。", code="window-dedicated-needs-organisation")
    if hall is not None and hall.region_id:
        for organisation in organisations:
            if not (
                is_within(hall.region, organisation.region) or is_within(organisation.region, hall.region)
            ):
                raise ValidationError(
                    f"进驻部门“{organisation.name}”不属于“{hall.region.name}”或其上下级区划。",
                    code="window-organisation-region",
                )


# ---------------------------------------------------------------------------------------------
# State changes: one transaction each, with its audit event
# ---------------------------------------------------------------------------------------------

_AUDITED_FIELDS = {
    Region: ["code", "name", "level", "parent_id", "is_active"],
    Organisation: [
        "name",
        "short_name",
        "credit_code",
        "kind",
        "region_id",
        "parent_id",
        "phone",
        "address",
        "is_active",
    ],
    ServiceHall: [
        "name",
        "kind",
        "region_id",
        "operator_id",
        "address",
        "longitude",
        "latitude",
        "opening_hours",
        "hours_note",
        "phone",
        "is_active",
    ],
    Window: ["hall_id", "number", "name", "kind", "is_active"],
}
_ACTION_NAMES = {Region: "region", Organisation: "organisation", ServiceHall: "hall", Window: "window"}
_VERBOSE = {Region: "行政区划", Organisation: "部门机构", ServiceHall: "服务大厅/站点", Window: "窗口"}


def _jsonable(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _changes(obj: Model) -> dict[str, list]:
    """{field: [before, after]} against the stored row; every field for a new object."""
    fields = _AUDITED_FIELDS[type(obj)]
    before = type(obj).objects.filter(pk=obj.pk).values(*fields).first() if obj.pk else None
    changes = {}
    for field in fields:
        old = before[field] if before else None
        new = getattr(obj, field)
        if isinstance(old, Decimal) or isinstance(new, Decimal):
            same = old is not None and new is not None and Decimal(str(old)) == Decimal(str(new))
            same = same or (old is None and new is None)
        else:
            same = old == new
        if before is None or not same:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _save(obj: Model, *, actor: Any, request: HttpRequest | None, extra: dict | None = None) -> Model:
    model = type(obj)
    creating = obj.pk is None
    changes = _changes(obj)
    obj.save()
    data = {"changes": changes, **(extra or {})}
    verb = "新增" if creating else "修改"
    label = getattr(obj, "code", None) or getattr(obj, "credit_code", None) or ""
    record_event(
        f"{_ACTION_NAMES[model]}.{'create' if creating else 'update'}",
        f"{verb}{_VERBOSE[model]} {label} {obj}".replace("  ", " ").strip(),
        actor=actor,
        obj=obj,
        data=data,
        request=request,
    )
    return obj


def save_region(region: Region, *, actor: Any = None, request: HttpRequest | None = None) -> Region:
    """Validate and store a new or changed region (the admin passes its form instance here)."""
    with transaction.atomic():
        validate_region(region)
        return _save(region, actor=actor, request=request)


def create_region(
    *,
    code: str,
    name: str,
    level: int | None = None,
    parent: Region | None = None,
    parent_code: str | None = None,
    is_active: bool = True,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Region:
    """New region. ``parent_code`` may name the parent instead of ``parent``; ``level`` defaults to
    the level the code's format implies."""
    if parent is None and parent_code:
        parent = find_parent_region(parent_code)
    if level is None:
        level = infer_region_level(code)
        if level is None:
            raise ValidationError(
                f"区划代码“{code}”格式不正确：应为 6 位（省、市、县级）或 12 位（乡、村级）数字。",
                code="region-code-format",
            )
    region = Region(code=code, name=name, level=level, parent=parent, is_active=is_active)
    return save_region(region, actor=actor, request=request)


def update_region(
    region: Region, *, actor: Any = None, request: HttpRequest | None = None, **fields: Any
) -> Region:
    for field, value in fields.items():
        setattr(region, field, value)
    return save_region(region, actor=actor, request=request)


def save_organisation(
    organisation: Organisation, *, actor: Any = None, request: HttpRequest | None = None
) -> Organisation:
    with transaction.atomic():
        validate_organisation(organisation)
        return _save(organisation, actor=actor, request=request)


def create_organisation(
    *, actor: Any = None, request: HttpRequest | None = None, **fields: Any
) -> Organisation:
    """New department: name, credit_code, region, optional parent, short_name, kind, phone, address."""
    return save_organisation(Organisation(**fields), actor=actor, request=request)


def update_organisation(
    organisation: Organisation, *, actor: Any = None, request: HttpRequest | None = None, **fields: Any
) -> Organisation:
    for field, value in fields.items():
        setattr(organisation, field, value)
    return save_organisation(organisation, actor=actor, request=request)


def save_hall(hall: ServiceHall, *, actor: Any = None, request: HttpRequest | None = None) -> ServiceHall:
    with transaction.atomic():
        validate_hall(hall)
        return _save(hall, actor=actor, request=request)


def create_hall(*, actor: Any = None, request: HttpRequest | None = None, **fields: Any) -> ServiceHall:
    """New hall or station: name, kind, region, address, optional operator, coordinates,
    opening_hours, hours_note, phone."""
    return save_hall(ServiceHall(**fields), actor=actor, request=request)


def update_hall(
    hall: ServiceHall, *, actor: Any = None, request: HttpRequest | None = None, **fields: Any
) -> ServiceHall:
    for field, value in fields.items():
        setattr(hall, field, value)
    return save_hall(hall, actor=actor, request=request)


def save_window(
    window: Window,
    organisations: Iterable[Organisation] | None = None,
    *,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> Window:
    """Store a window and set its departments. ``organisations=None`` keeps those it has."""
    with transaction.atomic():
        if organisations is None:
            organisations = list(window.organisations.all()) if window.pk else []
        organisations = list(organisations)
        validate_window(window, organisations)
        before = sorted(window.organisations.values_list("pk", flat=True)) if window.pk else []
        after = sorted(o.pk for o in organisations)
        extra = {"organisations": [before, after]} if before != after else None
        _save(window, actor=actor, request=request, extra=extra)
        window.organisations.set(organisations)
        return window


def create_window(
    *,
    organisations: Iterable[Organisation] | None = None,
    actor: Any = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Window:
    """New window: hall, number, name, kind and (for dedicated windows) its departments."""
    return save_window(Window(**fields), organisations or [], actor=actor, request=request)


def update_window(
    window: Window,
    *,
    organisations: Iterable[Organisation] | None = None,
    actor: Any = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Window:
    for field, value in fields.items():
        setattr(window, field, value)
    return save_window(window, organisations, actor=actor, request=request)


def delete_reference(
    obj: Region | Organisation | ServiceHall | Window, *, actor: Any = None, request=None
) -> None:
    """Delete a region, organisation, hall or window with its audit event. Rows still referenced
    elsewhere are protected by the database (PROTECT) and raise ``ProtectedError``."""
    model = type(obj)
    with transaction.atomic():
        summary = f"删除{_VERBOSE[model]} {obj}"
        record_event(
            f"{_ACTION_NAMES[model]}.delete",
            summary,
            actor=actor,
            obj=obj,
            data={"fields": {f: _jsonable(getattr(obj, f)) for f in _AUDITED_FIELDS[model]}},
            request=request,
        )
        obj.delete()
