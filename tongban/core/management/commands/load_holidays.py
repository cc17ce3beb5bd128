"""manage.py load_holidays — load the statutory holiday schedule into the working-day calendar.

manage.py load_holidays --seed                       # every year chinesecalendar covers
manage.py load_holidays --year 2027 --file 2027.csv  # one year from the official notice
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tongban.core import calendar_loader
from tongban.core.calendar_loader import ScheduleError


class Command(BaseCommand):
    help = (
        "载入法定节假日安排：--seed 从 chinesecalendar 载入；"
        "--year 年份 --file 文件 载入一年的官方安排（CSV 或 JSON）"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed", action="store_true", help="从 chinesecalendar 载入其覆盖的全部年度（可重复执行）"
        )
        parser.add_argument("--force", action="store_true", help="与 --seed 同用：覆盖管理员从文件导入的年度")
        parser.add_argument("--year", type=int, help="年份，例如 2027")
        parser.add_argument("--file", help="CSV（日期,类型,名称）或 JSON 文件路径")
        parser.add_argument(
            "--source", default="", help="来源说明，例如“国办发明电〔2026〕7号”；默认用文件名"
        )

    def handle(self, *args, **options):
        if options["seed"]:
            if options["year"] or options["file"]:
                raise CommandError("--seed 不能与 --year/--file 同时使用。")
            covered, written = calendar_loader.seed(force=options["force"])
            span = f"{covered[0]}–{covered[-1]}" if covered else "无"
            self.stdout.write(
                self.style.SUCCESS(
                    f"chinesecalendar 覆盖 {span} 年，共 {len(covered)} 个年度；"
                    f"本次写入 {len(written)} 个年度"
                    + (f"（{', '.join(map(str, written))}）" if written else "（均已是最新）")
                    + "。"
                )
            )
            return
        if not options["year"] or not options["file"]:
            raise CommandError("请使用 --seed，或同时给出 --year 年份 和 --file 文件路径。")
        path = Path(options["file"])
        try:
            content = path.read_bytes()
        except OSError:
            raise CommandError(f"无法读取文件：{path}") from None
        source = options["source"] or f"文件 {path.name}"
        try:
            result = calendar_loader.load_schedule_file(options["year"], content, path.name, source)
        except ScheduleError as exc:
            raise CommandError(
                f"{path.name} 未载入（数据库未作任何修改）：\n" + "\n".join(exc.messages)
            ) from None
        verb = "已更新" if result.replaced else "已载入"
        self.stdout.write(self.style.SUCCESS(f"{verb} {result.year} 年节假日安排：{result.summary}。"))
