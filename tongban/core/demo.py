"""Demo reference data: 安徽省 › 六安市 and its county-level divisions, 四川省 › 遂宁市 › 大英县 ›
象山镇; departments, halls, stations and windows; the working-day calendar.

Idempotent: every row is looked up by its natural key (region code, credit code, hall region +
name, hall + window number) and written through the service functions only when it is new or
differs, so a second run changes nothing (not even the audit log).

Region codes are real: 6-digit GB/T 2260 codes for province/city/county and the statistics
bureau's 12-digit 统计用区划代码 (2023 edition) for towns and villages; see docs/reference-data.md
for the sources. Credit codes of the demo departments are synthetic (valid check character).
Hall addresses are marked "演示地址" and coordinates are approximate.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TextIO

from django.core.exceptions import ValidationError

from tongban.core import services
from tongban.core.identifiers import credit_code_check_char
from tongban.core.models import Organisation, Region, ServiceHall, Window

# (code, name, parent code). Towns/villages: 统计用区划代码 2023; village names shortened from
# "XX村委会" to "XX村" as they are written on signs and forms.
REGIONS: list[tuple[str, str, str | None]] = [
    ("340000", "安徽省", None),
    ("341500", "六安市", "340000"),
    ("341502", "金安区", "341500"),
    ("341503", "裕安区", "341500"),
    ("341504", "叶集区", "341500"),
    ("341522", "霍邱县", "341500"),
    ("341523", "舒城县", "341500"),
    ("341524", "金寨县", "341500"),
    ("341525", "霍山县", "341500"),
    ("341502001000", "中市街道", "341502"),
    ("341502002000", "东市街道", "341502"),
    ("341502109000", "三十铺镇", "341502"),
    ("341503001000", "鼓楼街道", "341503"),
    ("341503100000", "苏埠镇", "341503"),
    ("341522100000", "城关镇", "341522"),
    ("341522101000", "河口镇", "341522"),
    ("341523114000", "汤池镇", "341523"),
    ("341523114001", "街道居委会", "341523114000"),
    ("341523114200", "镜石村", "341523114000"),
    ("341523114204", "汤池村", "341523114000"),
    ("510000", "四川省", None),
    ("510900", "遂宁市", "510000"),
    ("510923", "大英县", "510900"),
    ("510923107000", "象山镇", "510923"),
    # The two communities of seed 002's cloud service hall. The town prefix 510923107 is confirmed;
    # the last three digits are placeholders (0xx = community, 2xx = village, as the statistics
    # code assigns them) until checked against the published table — see docs/reference-data.md.
    ("510923107001", "富乐社区", "510923107000"),
    ("510923107201", "永南坝村", "510923107000"),
]

CITY_CODE = "341500"
COUNTY_CODES = ["341502", "341503", "341504", "341522", "341523", "341524", "341525"]

# The demo departments: key → (department name, short name). Other apps look them up by key.
DEPARTMENTS: dict[str, tuple[str, str]] = {
    "market": ("市场监督管理局", "市场监管"),
    "police": ("公安局", "公安"),
    "hrss": ("人力资源和社会保障局", "人社"),
    "civil": ("民政局", "民政"),
    "health": ("卫生健康委员会", "卫健"),
    "resources": ("自然资源和规划局", "自然资源"),
    "housing": ("住房和城乡建设局", "住建"),
    "tax": ("税务局", "税务"),
    "fund": ("住房公积金管理中心", "公积金"),
    "transport": ("交通运输局", "交通运输"),
    "data": ("数据资源管理局", "数据资源"),
    "medicare": ("医疗保障局", "医保"),
    "disability": ("残疾人联合会", "残联"),
}
_SERIAL = {key: index for index, key in enumerate(DEPARTMENTS, start=1)}

WORKDAY_HOURS = [
    {"days": [1, 2, 3, 4, 5], "open": "08:30", "close": "12:00"},
    {"days": [1, 2, 3, 4, 5], "open": "14:30", "close": "17:30"},
]
STATION_HOURS = [
    {"days": [1, 2, 3, 4, 5], "open": "08:30", "close": "12:00"},
    {"days": [1, 2, 3, 4, 5], "open": "14:30", "close": "17:00"},
]

# Approximate positions of the seats (to about 0.01°), good enough for a service map demo.
COORDINATES = {
    "341500": ("116.52", "31.74"),
    "341502": ("116.53", "31.76"),
    "341503": ("116.48", "31.74"),
    "341504": ("115.91", "31.85"),
    "341522": ("116.28", "32.35"),
    "341523": ("116.95", "31.46"),
    "341524": ("115.93", "31.68"),
    "341525": ("116.33", "31.39"),
    "341502001000": ("116.51", "31.76"),
    "341502002000": ("116.53", "31.77"),
    "341502109000": ("116.63", "31.80"),
    "341503001000": ("116.49", "31.75"),
    "341503100000": ("116.33", "31.62"),
    "341522100000": ("116.28", "32.34"),
    "341522101000": ("116.17", "32.29"),
    "341523114000": ("116.83", "31.31"),
    "341523114001": ("116.83", "31.31"),
    "341523114200": ("116.80", "31.33"),
    "341523114204": ("116.84", "31.30"),
    "510923": ("105.24", "30.59"),
    "510923107000": ("105.34", "30.62"),
}


def credit_code(region_code: str, serial: int) -> str:
    """Synthetic credit code of a government body (机关, "11"), registered in ``region_code``."""
    first17 = f"11{region_code[:6]}{serial:09d}"
    return first17 + credit_code_check_char(first17)


def _credit_code_for(region_code: str, key: str) -> str:
    # County branches of the city housing-fund centre: a series of their own.
    serial = _SERIAL[key] + (100 if key == "fund" and region_code != CITY_CODE else 0)
    return credit_code(region_code, serial)


def department(region_code: str, key: str) -> Organisation:
    """A demo department by region code and contract key, e.g. ``department("341502", "market")``
    is 金安区市场监督管理局. For a county, ``"fund"`` is its branch of the city housing-fund centre."""
    if key not in DEPARTMENTS:
        raise KeyError(f"unknown department key {key!r}; known: {', '.join(DEPARTMENTS)}")
    return Organisation.objects.get(credit_code=_credit_code_for(region_code, key))


def _department_name(region: Region, key: str) -> str:
    name, _short = DEPARTMENTS[key]
    if key == "tax":
        prefix = "六安市" if region.code == CITY_CODE else f"六安市{region.name}"
        return f"国家税务总局{prefix}税务局"
    if key == "fund" and region.code != CITY_CODE:
        return f"六安市住房公积金管理中心{region.name}管理部"
    return f"{region.name}{name}"


class _Loader:
    def __init__(self, stdout: TextIO | None):
        self.stdout = stdout
        self.created = 0
        self.updated = 0

    def upsert(self, model: type, lookup: dict, fields: dict, save: Any, m2m: list | None = None) -> Any:
        """update_or_create through the services: validated and audited, and a no-op when equal."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **fields)
            self._save(obj, save, m2m)
            self.created += 1
            return obj
        changed = [name for name, value in fields.items() if not _same(getattr(obj, name), value)]
        if m2m is not None and sorted(o.pk for o in obj.organisations.all()) != sorted(o.pk for o in m2m):
            changed.append("organisations")
        if changed:
            for name, value in fields.items():
                setattr(obj, name, value)
            self._save(obj, save, m2m)
            self.updated += 1
        return obj

    @staticmethod
    def _save(obj: Any, save: Any, m2m: list | None) -> None:
        try:
            if m2m is None:
                save(obj)
            else:
                save(obj, m2m)
        except ValidationError as error:
            raise ValidationError(
                f"演示数据有误（{obj}）：{'；'.join(error.messages)}", code=error.code
            ) from error

    def regions(self) -> dict[str, Region]:
        by_code: dict[str, Region] = {}
        for code, name, parent_code in REGIONS:
            level = services.infer_region_level(code)
            parent = by_code.get(parent_code) if parent_code else None
            by_code[code] = self.upsert(
                Region, {"code": code}, {"name": name, "level": level, "parent": parent}, services.save_region
            )
        return by_code

    def departments(self, regions: dict[str, Region]) -> None:
        city = regions[CITY_CODE]
        for region_code in [CITY_CODE, *COUNTY_CODES]:
            region = regions[region_code]
            for key, (_name, short_name) in DEPARTMENTS.items():
                parent = None
                if key == "fund" and region_code != CITY_CODE:
                    parent = department(city.code, "fund")
                kind = Organisation.Kind.SERVICE_CENTRE if key == "data" else Organisation.Kind.DEPARTMENT
                self.upsert(
                    Organisation,
                    {"credit_code": _credit_code_for(region_code, key)},
                    {
                        "name": _department_name(region, key),
                        "short_name": short_name,
                        "kind": kind,
                        "region": region,
                        "parent": parent,
                    },
                    services.save_organisation,
                )

    def hall(
        self, region: Region, name: str, kind: str, operator: Organisation | None, address: str
    ) -> ServiceHall:
        lng, lat = COORDINATES.get(region.code, (None, None))
        station = kind != ServiceHall.Kind.CENTRE
        return self.upsert(
            ServiceHall,
            {"region": region, "name": name},
            {
                "kind": kind,
                "operator": operator,
                "address": address,
                "longitude": Decimal(lng) if lng else None,
                "latitude": Decimal(lat) if lat else None,
                "opening_hours": STATION_HOURS if station else WORKDAY_HOURS,
                "hours_note": "法定节假日除外；坐标为近似位置"
                if not station
                else "法定节假日除外，可预约上门帮办",
                "phone": "12345",
            },
            services.save_hall,
        )

    def window(self, hall: ServiceHall, number: str, name: str, kind: str, organisations: list) -> None:
        self.upsert(
            Window,
            {"hall": hall, "number": number},
            {"name": name, "kind": kind},
            services.save_window,
            m2m=organisations,
        )

    def centre_windows(self, hall: ServiceHall, region_code: str | None) -> None:
        K = Window.Kind
        for number in range(1, 7):
            self.window(hall, str(number), f"综合受理窗口 {number}", K.COMPREHENSIVE, [])
        self.window(hall, "7", "统一出件窗口", K.DELIVERY, [])
        self.window(hall, "8", "帮办代办窗口", K.HELP, [])
        if region_code is None:
            return
        d = department
        self.window(hall, "9", "公安专窗", K.DEDICATED, [d(region_code, "police")])
        self.window(hall, "10", "税务专窗", K.DEDICATED, [d(region_code, "tax")])
        self.window(
            hall,
            "11",
            "不动产登记专窗",
            K.DEDICATED,
            [d(region_code, "resources"), d(region_code, "tax"), d(region_code, "housing")],
        )

    def halls(self, regions: dict[str, Region]) -> None:
        for region_code in [CITY_CODE, *COUNTY_CODES]:
            region = regions[region_code]
            prefix = "" if region_code == CITY_CODE else "六安市"
            hall = self.hall(
                region,
                f"{region.name}政务服务中心",
                ServiceHall.Kind.CENTRE,
                department(region_code, "data"),
                f"{prefix}{region.name}政务服务中心（演示地址）",
            )
            self.centre_windows(hall, region_code)
        daying = regions["510923"]
        hall = self.hall(
            daying, "大英县政务服务中心", ServiceHall.Kind.CENTRE, None, "四川省遂宁市大英县（演示地址）"
        )
        self.centre_windows(hall, None)
        for code, region in regions.items():
            county = regions[code[:6]] if len(code) == 12 else None
            place = f"{county.name}{region.name}" if county else region.name
            if region.level == Region.Level.TOWN:
                hall = self.hall(
                    region,
                    f"{region.name}便民服务中心",
                    ServiceHall.Kind.TOWN_CENTRE,
                    None,
                    f"{place}便民服务中心（演示地址）",
                )
                self.window(hall, "1", "综合受理窗口 1", Window.Kind.COMPREHENSIVE, [])
                self.window(hall, "2", "综合受理窗口 2", Window.Kind.COMPREHENSIVE, [])
                self.window(hall, "3", "帮办代办窗口", Window.Kind.HELP, [])
            elif region.level == Region.Level.VILLAGE:
                town = regions[code[:9] + "000"]
                hall = self.hall(
                    region,
                    f"{region.name}便民服务站",
                    ServiceHall.Kind.VILLAGE_STATION,
                    None,
                    f"{county.name}{town.name}{region.name}便民服务站（演示地址）",
                )
                self.window(hall, "1", "代办服务窗口", Window.Kind.HELP, [])


def _same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Decimal) or isinstance(current, Decimal):
        return current is not None and wanted is not None and Decimal(current) == Decimal(wanted)
    return current == wanted


def seed_calendar() -> list[int]:
    """The statutory holiday table from chinesecalendar (idempotent; years an administrator
    loaded from the official notice are left alone). Owned by the calendar module."""
    from tongban.core.calendar_loader import seed_from_chinesecalendar

    return seed_from_chinesecalendar()


def load(stdout: TextIO | None = None) -> None:
    loader = _Loader(stdout)
    regions = loader.regions()
    loader.departments(regions)
    loader.halls(regions)
    years = seed_calendar()
    if stdout is not None:
        span = f"{min(years)}–{max(years)} 年" if years else "无"
        stdout.write(
            f"基础数据：新增 {loader.created} 条，更新 {loader.updated} 条"
            f"（区划 {Region.objects.count()}，部门 {Organisation.objects.count()}，"
            f"大厅/站点 {ServiceHall.objects.count()}，窗口 {Window.objects.count()}）；"
            f"节假日安排：{span}。\n"
        )
