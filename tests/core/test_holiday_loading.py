"""Loading holiday schedules: the chinesecalendar seed, year files, the command and the admin page.

A bad file must be rejected as a whole, with every problem in Chinese and its line number, and
leave the database exactly as it was.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

import tongban.core.admin_calendar  # noqa: F401 - registers the calendar admins
from tongban.core.calendar_loader import (
    ScheduleError,
    load_schedule_file,
    load_year_schedule,
    parse_schedule_file,
    seed,
    seed_from_chinesecalendar,
)
from tongban.core.models import AuditEvent, CalendarDay, CalendarYear
from tongban.core.workdays import add_working_days, calendar_year_loaded

# A test schedule for 2027 (shaped like a State Council notice; not the official one).
GOOD_2027_CSV = """日期,类型,名称
2027-01-01,放假,元旦
2027-01-02,放假,元旦
2027-01-03,放假,元旦
2027-02-06,放假,春节
2027-02-07,放假,春节
2027-02-08,放假,春节
2027-02-09,放假,春节
2027-02-10,放假,春节
2027-02-11,放假,春节
2027-02-12,放假,春节
2027-02-20,上班,春节
"""


def snapshot() -> tuple:
    """Everything a load may touch, to prove a rejected file changed nothing."""
    return (
        sorted(CalendarDay.objects.values_list("date", "kind", "name")),
        sorted(CalendarYear.objects.values_list("year", "source", "loaded_at")),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def signals():
    received: list[dict] = []

    def receiver(sender, **kwargs):
        received.append({"sender": sender, **{k: v for k, v in kwargs.items() if k != "signal"}})

    calendar_year_loaded.connect(receiver)
    yield received
    calendar_year_loaded.disconnect(receiver)


class TestSeed:
    def test_seeds_every_covered_year(self, db):
        years = seed_from_chinesecalendar()
        assert years == list(range(2004, years[-1] + 1)) and years[-1] >= 2026
        assert set(CalendarYear.objects.values_list("year", flat=True)) == set(years)
        assert CalendarYear.objects.get(year=2026).source.startswith("chinesecalendar")
        # Holidays include weekend days inside them; make-up days are workdays with a Chinese name.
        assert CalendarDay.objects.get(date=date(2026, 2, 15)).kind == "holiday"  # a Sunday
        assert CalendarDay.objects.get(date=date(2026, 9, 20)).kind == "workday"
        assert CalendarDay.objects.get(date=date(2025, 10, 6)).name == "中秋"
        assert not CalendarYear.objects.filter(year=2003).exists()

    def test_is_idempotent(self, db, signals):
        seed_from_chinesecalendar()
        before, sent = snapshot(), len(signals)
        assert sent == len(seed_from_chinesecalendar())
        assert snapshot() == before
        assert len(signals) == sent  # nothing reloaded, nothing announced
        assert seed()[1] == []

    def test_repairs_a_changed_seeded_year(self, db):
        seed_from_chinesecalendar()
        CalendarDay.objects.filter(date=date(2026, 9, 20)).delete()
        assert seed()[1] == [2026]
        assert CalendarDay.objects.filter(date=date(2026, 9, 20), kind="workday").exists()

    def test_never_overwrites_a_year_loaded_from_the_official_file(self, db):
        seed_from_chinesecalendar()
        load_year_schedule(
            2026, [{"date": "2026-01-01", "kind": "放假", "name": "元旦"}], "国办发明电（测试）"
        )
        seed_from_chinesecalendar()
        assert CalendarDay.objects.filter(date__year=2026).count() == 1
        assert CalendarYear.objects.get(year=2026).source == "国办发明电（测试）"


class TestLoadYear:
    def test_good_csv_loads_and_audits(self, db, signals):
        result = load_schedule_file(2027, GOOD_2027_CSV.encode(), "2027.csv", "测试通知")
        assert (result.year, result.holidays, result.workdays, result.replaced) == (2027, 10, 1, False)
        assert CalendarYear.objects.get(year=2027).source == "测试通知"
        assert CalendarDay.objects.get(date=date(2027, 2, 20)).kind == "workday"
        event = AuditEvent.objects.get(action="calendar.year_loaded")
        assert "2027" in event.summary and event.data["holidays"] == 10
        assert signals == [{"sender": CalendarYear, "year": 2027, "replaced": False}]
        # Fri 2027-02-05 received: 2-6..2-12 off, Sat 2-13 and Sun 2-14 weekend, Mon 2-15 is day 1.
        assert add_working_days(date(2027, 2, 5), 1).date == date(2027, 2, 15)
        assert add_working_days(date(2027, 2, 5), 1).provisional is False

    def test_reloading_replaces_the_whole_year(self, db, signals):
        load_schedule_file(2027, GOOD_2027_CSV, "2027.csv", "第一版")
        result = load_year_schedule(
            2027, [{"date": "2027-10-01", "kind": "holiday", "name": "国庆节"}], "更正"
        )
        assert result.replaced is True
        assert list(CalendarDay.objects.filter(date__year=2027).values_list("date", flat=True)) == [
            date(2027, 10, 1)
        ]
        assert CalendarYear.objects.get(year=2027).source == "更正"
        assert [s["replaced"] for s in signals] == [False, True]

    def test_other_years_are_untouched(self, db):
        seed_from_chinesecalendar()
        count_2026 = CalendarDay.objects.filter(date__year=2026).count()
        load_schedule_file(2027, GOOD_2027_CSV, "2027.csv", "测试")
        assert CalendarDay.objects.filter(date__year=2026).count() == count_2026

    def test_json_file(self, db):
        content = json.dumps(
            [
                {"date": "2027-01-01", "kind": "放假", "name": "元旦"},
                {"date": "2027-02-20", "kind": "workday"},
            ],
            ensure_ascii=False,
        )
        result = load_schedule_file(2027, content.encode(), "2027.json", "测试")
        assert (result.holidays, result.workdays) == (1, 1)

    def test_gbk_csv_from_excel(self, db):
        result = load_schedule_file(2027, GOOD_2027_CSV.encode("gb18030"), "2027.csv", "测试")
        assert result.holidays == 10
        assert CalendarDay.objects.get(date=date(2027, 1, 1)).name == "元旦"


class TestBadFiles:
    @pytest.mark.parametrize(
        ("content", "expected"),
        [
            ("2027-02-30,放假,春节", "第 1 行：日期“2027-02-30”不存在"),
            ("date,kind,name\n2027-01-01,放假,元旦\n2027-13-01,放假,x", "第 3 行：日期“2027-13-01”不存在"),
            ("2027-1-x,放假,元旦", "第 1 行：日期“2027-1-x”格式不正确"),
            ("2026-12-31,放假,元旦", "第 1 行：日期 2026-12-31 不在 2027 年内"),
            ("2027-01-01,休假日,元旦", "第 1 行：类型“休假日”无法识别"),
            ("2027-02-10,上班,春节", "第 1 行：2027-02-10 是星期三，调休上班日只能是周六或周日"),
            ("2027-01-01,放假,元旦\n2027-01-01,上班,元旦", "第 2 行：日期 2027-01-01 与第 1 行重复"),
            ("2027-01-01", "第 1 行：应为“日期,类型,名称”三列"),
            ("", "没有任何日期"),
        ],
    )
    def test_rejected_with_line_number_and_nothing_changes(self, db, signals, content, expected):
        seed_from_chinesecalendar()
        load_schedule_file(2027, GOOD_2027_CSV, "2027.csv", "原有")
        before, sent = snapshot(), len(signals)
        with pytest.raises(ScheduleError) as excinfo:
            load_schedule_file(2027, content.encode(), "2027.csv", "新版")
        assert any(expected in message for message in excinfo.value.messages), excinfo.value.messages
        assert excinfo.value.code == "calendar-schedule-invalid"
        assert snapshot() == before
        assert len(signals) == sent

    def test_every_problem_is_listed(self, db):
        content = "2027-02-30,放假,春节\n2027-01-01,放假,元旦\n2027-02-10,上班,春节\n2028-01-01,放假,元旦\n"
        with pytest.raises(ScheduleError) as excinfo:
            load_schedule_file(2027, content, "2027.csv", "测试")
        messages = excinfo.value.messages
        assert len(messages) == 3
        assert [m.split("：")[0] for m in messages] == ["第 1 行", "第 3 行", "第 4 行"]
        assert CalendarDay.objects.count() == 0 and CalendarYear.objects.count() == 0

    def test_bad_json(self, db):
        with pytest.raises(ScheduleError) as excinfo:
            load_schedule_file(2027, b'[{"date": "2027-01-01",', "2027.json", "测试")
        assert "JSON 格式错误" in excinfo.value.messages[0]
        with pytest.raises(ScheduleError) as excinfo:
            load_schedule_file(2027, '[{"date": "2027-02-29", "kind": "放假"}]', "2027.json", "测试")
        assert excinfo.value.messages == ["第 1 条：日期“2027-02-29”不存在。"]

    def test_bad_year_and_missing_source(self, db):
        with pytest.raises(ScheduleError, match="年份"):
            load_year_schedule(27, [{"date": "2027-01-01", "kind": "放假"}], "测试")
        with pytest.raises(ScheduleError, match="来源"):
            load_year_schedule(2027, [{"date": "2027-01-01", "kind": "放假"}], "  ")

    def test_gbk_is_decoded(self, db):
        entries = parse_schedule_file("2027-01-01,放假,元旦".encode("gb18030"), "x.csv")
        assert entries[0].name == "元旦"


class TestCommand:
    def test_seed(self, db, capsys):
        call_command("load_holidays", "--seed")
        years = CalendarYear.objects.count()
        assert years >= 23
        assert f"本次写入 {years} 个年度" in capsys.readouterr().out
        call_command("load_holidays", "--seed")
        assert "均已是最新" in capsys.readouterr().out

    def test_year_file(self, db, tmp_path, capsys):
        path = tmp_path / "2027.csv"
        path.write_text(GOOD_2027_CSV, encoding="utf-8")
        call_command("load_holidays", "--year", "2027", "--file", str(path), "--source", "测试通知")
        assert "已载入 2027 年节假日安排：放假 10 天，调休上班 1 天" in capsys.readouterr().out
        assert CalendarYear.objects.get(year=2027).source == "测试通知"

    def test_bad_file_exits_with_chinese_errors(self, db, tmp_path):
        path = tmp_path / "2027.csv"
        path.write_text("2027-02-30,放假,春节\n2027-02-10,上班,春节\n", encoding="utf-8")
        with pytest.raises(CommandError) as excinfo:
            call_command("load_holidays", "--year", "2027", "--file", str(path))
        message = str(excinfo.value)
        assert "未载入（数据库未作任何修改）" in message
        assert "第 1 行：日期“2027-02-30”不存在" in message and "第 2 行" in message
        assert CalendarYear.objects.count() == 0

    def test_usage_errors(self, db, tmp_path):
        with pytest.raises(CommandError, match="--seed"):
            call_command("load_holidays")
        with pytest.raises(CommandError, match="无法读取文件"):
            call_command("load_holidays", "--year", "2027", "--file", str(tmp_path / "missing.csv"))


@pytest.fixture
def staff_client(admin_client, admin_user):
    """The admin client past the staff two-factor step (a confirmed TOTP device in the session)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=admin_user, name="测试", confirmed=True)
    session = admin_client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return admin_client


class TestAdmin:
    def test_changelist_links_to_import(self, staff_client, db):
        seed_from_chinesecalendar()
        response = staff_client.get("/admin/core/calendaryear/")
        assert response.status_code == 200
        page = response.content.decode()
        assert "导入年度节假日安排" in page
        # 2025: 28 days off (weekends inside holidays included), 5 make-up workdays.
        assert response.context["cl"].result_list.get(year=2025).n_holidays == 28
        assert response.context["cl"].result_list.get(year=2025).n_workdays == 5

    def test_import_page_shows_every_problem_and_changes_nothing(self, staff_client, db):
        before = snapshot()
        upload = SimpleUploadedFile("2027.csv", "2027-02-30,放假,春节\n2027-02-10,上班,春节\n".encode())
        response = staff_client.post(
            "/admin/core/calendaryear/import/", {"year": 2027, "source": "测试", "file": upload}
        )
        page = response.content.decode()
        assert response.status_code == 200
        assert "数据库未作任何修改" in page
        assert "第 1 行：日期“2027-02-30”不存在" in page and "2027-02-10 是星期三" in page
        assert snapshot() == before

    def test_import_page_loads_a_year(self, staff_client, db):
        upload = SimpleUploadedFile("2027.csv", GOOD_2027_CSV.encode())
        response = staff_client.post(
            "/admin/core/calendaryear/import/", {"year": 2027, "source": "测试通知", "file": upload}
        )
        assert response.status_code == 302
        assert CalendarYear.objects.get(year=2027).source == "测试通知"
        event = AuditEvent.objects.get(action="calendar.year_loaded")
        assert event.actor is not None
        export = staff_client.get("/admin/core/calendaryear/export/2027/")
        assert export.status_code == 200
        assert "2027-02-20,上班,春节" in export.content.decode("utf-8-sig")

    def test_import_form_errors_in_chinese(self, staff_client, db):
        response = staff_client.post("/admin/core/calendaryear/import/", {"year": "", "source": ""})
        page = response.content.decode()
        assert "请填写年份" in page and "请选择文件" in page

    def test_days_are_read_only(self, staff_client, db):
        seed_from_chinesecalendar()
        response = staff_client.get("/admin/core/calendarday/")
        assert response.status_code == 200
        assert "日期只能按年度整体导入" in response.content.decode()
        assert staff_client.get("/admin/core/calendarday/add/").status_code == 403
