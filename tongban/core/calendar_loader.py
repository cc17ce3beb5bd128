"""Loading official holiday schedules (节假日安排) into the working-day calendar.

Two sources:

* :func:`seed_from_chinesecalendar` — every year the installed ``chinesecalendar`` package
  covers (its ``holidays`` dict lists the days off, weekend days inside a holiday included;
  ``workdays`` lists the make-up workdays). Idempotent: an unchanged year is not rewritten, and
  a year an administrator loaded from a file is never overwritten by the package.
* :func:`load_year_schedule` — one year from the State Council notice, typed into a CSV or JSON
  file (see :func:`parse_schedule_file` and docs/calendar.md). Used by
  ``manage.py load_holidays --year 2027 --file 2027.csv`` and the admin import page.

Loading a year is all-or-nothing: the entries are validated first and every problem is
reported (in Chinese, with its line number) in one :class:`ScheduleError`; only a clean file
replaces the year's rows, writes its :class:`CalendarYear` row and an audit event in one
transaction, and then sends :data:`tongban.core.workdays.calendar_year_loaded`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from tongban.core.audit import record_event
from tongban.core.models import CalendarDay, CalendarYear
from tongban.core.workdays import calendar_year_loaded

CHINESECALENDAR_SOURCE = "chinesecalendar"
MIN_YEAR, MAX_YEAR = 1990, 2100
WEEKDAY_NAMES = "一二三四五六日"

_KINDS = {
    "放假": CalendarDay.Kind.HOLIDAY,
    "休": CalendarDay.Kind.HOLIDAY,
    "休息": CalendarDay.Kind.HOLIDAY,
    "holiday": CalendarDay.Kind.HOLIDAY,
    "上班": CalendarDay.Kind.WORKDAY,
    "班": CalendarDay.Kind.WORKDAY,
    "调休上班": CalendarDay.Kind.WORKDAY,
    "workday": CalendarDay.Kind.WORKDAY,
}
_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$|^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_HEADER_WORDS = {"date", "日期"}


class ScheduleError(ValidationError):
    """A schedule that cannot be loaded; ``messages`` lists every problem (in Chinese)."""

    def __init__(self, problems: list[str]):
        super().__init__([ValidationError(p, code="calendar-schedule-invalid") for p in problems])
        self.code = "calendar-schedule-invalid"
        self.problems = problems


@dataclass(frozen=True)
class ScheduleEntry:
    """One row of a schedule file, as typed; ``where`` says where it came from ("第 3 行")."""

    where: str
    date: str
    kind: str
    name: str = ""


@dataclass(frozen=True)
class LoadResult:
    year: int
    holidays: int
    workdays: int
    replaced: bool

    @property
    def summary(self) -> str:
        return f"放假 {self.holidays} 天，调休上班 {self.workdays} 天"


# -- parsing files ------------------------------------------------------------------------------
def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    # UTF-8 (with or without BOM) first; Excel on Chinese Windows saves CSV as GB18030/GBK.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ScheduleError(["文件编码无法识别，请保存为 UTF-8 编码后重新上传。"])


def parse_schedule_file(content: bytes | str, filename: str = "") -> list[ScheduleEntry]:
    """Read a CSV (``date,kind,name``) or JSON (``[{"date","kind","name"}]``) schedule file.

    The format follows the file name's extension, else the content (a leading ``[`` is JSON).
    Only the file's shape is checked here; :func:`load_year_schedule` validates the values.
    """
    text = _decode(content)
    is_json = filename.lower().endswith(".json") or (
        not filename.lower().endswith(".csv") and text.lstrip().startswith("[")
    )
    return _parse_json(text) if is_json else _parse_csv(text)


def _parse_csv(text: str) -> list[ScheduleEntry]:
    entries: list[ScheduleEntry] = []
    problems: list[str] = []
    for line_no, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not entries and not problems and cells[0].lower() in _HEADER_WORDS:
            continue  # header row
        if len(cells) < 2 or len(cells) > 3:
            problems.append(
                f"第 {line_no} 行：应为“日期,类型,名称”三列（名称可省略），实际为 {len(cells)} 列。"
            )
            continue
        entries.append(
            ScheduleEntry(f"第 {line_no} 行", cells[0], cells[1], cells[2] if len(cells) > 2 else "")
        )
    if problems:
        raise ScheduleError(problems)
    return entries


def _parse_json(text: str) -> list[ScheduleEntry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError([f"JSON 格式错误（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}"]) from None
    if not isinstance(data, list):
        raise ScheduleError(
            ['JSON 文件应为列表，例如 [{"date": "2027-01-01", "kind": "放假", "name": "元旦"}]。']
        )
    entries: list[ScheduleEntry] = []
    problems: list[str] = []
    for index, item in enumerate(data, start=1):
        where = f"第 {index} 条"
        if not isinstance(item, dict):
            problems.append(f"{where}：应为包含 date、kind、name 的对象。")
            continue
        entries.append(
            ScheduleEntry(
                where,
                str(item.get("date", "")).strip(),
                str(item.get("kind", "")).strip(),
                str(item.get("name") or "").strip(),
            )
        )
    if problems:
        raise ScheduleError(problems)
    return entries


# -- validation ---------------------------------------------------------------------------------
def _coerce_entries(entries: Iterable[ScheduleEntry | Mapping[str, Any]]) -> list[ScheduleEntry]:
    result = []
    for index, entry in enumerate(entries, start=1):
        if isinstance(entry, ScheduleEntry):
            result.append(entry)
        else:
            value = entry.get("date", "")
            text = value.isoformat() if isinstance(value, date) else str(value or "").strip()
            result.append(
                ScheduleEntry(
                    f"第 {index} 条",
                    text,
                    str(entry.get("kind", "")).strip(),
                    str(entry.get("name") or "").strip(),
                )
            )
    return result


def _parse_date(text: str) -> date | str | None:
    """A date, None if the text is not shaped like a date, or the text if the date does not exist."""
    match = _DATE_RE.match(text)
    if not match:
        return None
    y, m, d = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
    try:
        return date(y, m, d)
    except ValueError:
        return text


def validate_schedule(
    year: int, entries: Iterable[ScheduleEntry | Mapping[str, Any]]
) -> list[tuple[date, str, str]]:
    """Check every entry; return ``(date, kind, name)`` rows.

    Raises :class:`ScheduleError` listing all problems.
    """
    if not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise ScheduleError([f"年份“{year}”无效，应为 {MIN_YEAR}–{MAX_YEAR} 之间的四位年份。"])
    entries = _coerce_entries(entries)
    problems: list[str] = []
    rows: list[tuple[date, str, str]] = []
    seen: dict[date, str] = {}
    if not entries:
        problems.append(f"没有任何日期：{year} 年的节假日安排至少应包含放假日期。")
    for entry in entries:
        where = entry.where
        parsed = _parse_date(entry.date)
        kind = _KINDS.get(entry.kind.strip().lower()) if entry.kind else None
        ok = True
        if parsed is None:
            shown = entry.date or "（空）"
            problems.append(f"{where}：日期“{shown}”格式不正确，应为 YYYY-MM-DD，例如 {year}-10-01。")
            ok = False
        elif isinstance(parsed, str):
            problems.append(f"{where}：日期“{parsed}”不存在。")
            ok = False
        elif parsed.year != year:
            problems.append(f"{where}：日期 {parsed.isoformat()} 不在 {year} 年内。")
            ok = False
        if kind is None:
            shown = entry.kind or "（空）"
            problems.append(f"{where}：类型“{shown}”无法识别，应为“放假”（holiday）或“上班”（workday）。")
            ok = False
        if len(entry.name) > 40:
            problems.append(f"{where}：名称过长（最多 40 个字）。")
            ok = False
        if not ok:
            continue
        assert isinstance(parsed, date) and kind is not None
        if parsed in seen:
            problems.append(f"{where}：日期 {parsed.isoformat()} 与{seen[parsed]}重复。")
            continue
        seen[parsed] = where
        if kind == CalendarDay.Kind.WORKDAY and parsed.weekday() < 5:
            problems.append(
                f"{where}：{parsed.isoformat()} 是星期{WEEKDAY_NAMES[parsed.weekday()]}，"
                "调休上班日只能是周六或周日（工作日本来就上班）。"
            )
            continue
        rows.append((parsed, kind.value, entry.name))
    if problems:
        raise ScheduleError(problems)
    return sorted(rows)


# -- writing ------------------------------------------------------------------------------------
def _year_rows(year: int) -> set[tuple[date, str, str]]:
    return set(
        CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)).values_list(
            "date", "kind", "name"
        )
    )


def _write_year(
    year: int, rows: list[tuple[date, str, str]], source: str, *, actor: Any, request: Any
) -> LoadResult:
    with transaction.atomic():
        replaced = CalendarYear.objects.filter(year=year).exists()
        CalendarDay.objects.filter(date__gte=date(year, 1, 1), date__lte=date(year, 12, 31)).delete()
        CalendarDay.objects.bulk_create([CalendarDay(date=d, kind=k, name=n) for d, k, n in rows])
        calendar_year, _ = CalendarYear.objects.update_or_create(year=year, defaults={"source": source[:200]})
        result = LoadResult(
            year=year,
            holidays=sum(1 for _, k, _ in rows if k == CalendarDay.Kind.HOLIDAY),
            workdays=sum(1 for _, k, _ in rows if k == CalendarDay.Kind.WORKDAY),
            replaced=replaced,
        )
        record_event(
            "calendar.year_loaded",
            f"{'更新' if replaced else '载入'} {year} 年节假日安排：{result.summary}（来源：{source}）",
            actor=actor,
            obj=calendar_year,
            data={
                "year": year,
                "source": source,
                "holidays": result.holidays,
                "workdays": result.workdays,
                "replaced": replaced,
            },
            request=request,
        )
    calendar_year_loaded.send(sender=CalendarYear, year=year, replaced=replaced)
    return result


def load_year_schedule(
    year: int,
    entries: Iterable[ScheduleEntry | Mapping[str, Any]],
    source: str,
    *,
    actor: Any = None,
    request: Any = None,
) -> LoadResult:
    """Replace ``year``'s holidays and make-up workdays with ``entries`` (all or nothing).

    ``entries`` are :class:`ScheduleEntry` rows from :func:`parse_schedule_file` or mappings
    with ``date``, ``kind`` (放假/holiday, 上班/workday) and ``name``. Raises
    :class:`ScheduleError` listing every problem; then the database is unchanged.
    """
    source = (source or "").strip()
    if not source:
        raise ScheduleError(["请填写来源，例如“国办发明电〔2026〕X号”。"])
    rows = validate_schedule(year, entries)
    return _write_year(year, rows, source, actor=actor, request=request)


def load_schedule_file(
    year: int, content: bytes | str, filename: str, source: str, *, actor: Any = None, request: Any = None
) -> LoadResult:
    """Parse and load one file: the path shared by the management command and the admin page."""
    return load_year_schedule(
        year, parse_schedule_file(content, filename), source, actor=actor, request=request
    )


# -- chinesecalendar seed -----------------------------------------------------------------------
def chinesecalendar_schedule() -> dict[int, list[tuple[date, str, str]]]:
    """The package's data as rows per year (names in Chinese)."""
    from chinese_calendar.constants import Holiday, holidays, workdays

    chinese = {h.value: h.chinese for h in Holiday}
    by_year: dict[int, list[tuple[date, str, str]]] = {}
    for mapping, kind in ((holidays, CalendarDay.Kind.HOLIDAY), (workdays, CalendarDay.Kind.WORKDAY)):
        for d, name in mapping.items():
            by_year.setdefault(d.year, []).append((d, kind.value, chinese.get(name, name)))
    first, last = min(by_year), max(by_year)
    for y in range(first, last + 1):  # a covered year with no special day would still be official
        by_year.setdefault(y, [])
    return {y: sorted(rows) for y, rows in sorted(by_year.items())}


def _chinesecalendar_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("chinesecalendar")
    except PackageNotFoundError:  # pragma: no cover - the package is a dependency
        return "?"


def seed(*, force: bool = False) -> tuple[list[int], list[int]]:
    """Seed from chinesecalendar; return (years covered, years written in this call)."""
    schedule = chinesecalendar_schedule()
    source = f"{CHINESECALENDAR_SOURCE} {_chinesecalendar_version()}"
    existing = dict(CalendarYear.objects.values_list("year", "source"))
    written = []
    for year, rows in schedule.items():
        current_source = existing.get(year)
        if current_source is not None and not force:
            if not current_source.startswith(CHINESECALENDAR_SOURCE):
                continue  # loaded by an administrator from the official notice: theirs wins
            if _year_rows(year) == set(rows):
                continue  # unchanged: idempotent
        validate_schedule(year, [{"date": d, "kind": k, "name": n} for d, k, n in rows])
        _write_year(year, rows, source, actor=None, request=None)
        written.append(year)
    return list(schedule), written


def seed_from_chinesecalendar() -> list[int]:
    """Load every year the installed chinesecalendar package covers; return those years.

    Idempotent (unchanged years are left alone, no audit event or signal) and never overwrites
    a year loaded from an official file. Years before the package's first year stay unloaded.
    """
    covered, _ = seed()
    return covered
