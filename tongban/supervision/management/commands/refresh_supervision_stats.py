"""Rebuild the statistics summary tables for a range of closed days (history, benchmarks)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from tongban.cases.models import Application
from tongban.supervision.stats import refresh_days


class Command(BaseCommand):
    help = "重建电子监察统计汇总表（按日）。默认从最早的收件日期到今天。"

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="开始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="end", help="结束日期 YYYY-MM-DD（默认今天）")

    def handle(self, *args, start=None, end=None, **options):
        try:
            end_day = dt.date.fromisoformat(end) if end else timezone.localdate()
            if start:
                start_day = dt.date.fromisoformat(start)
            else:
                first = Application.objects.aggregate(first=Min("received_date"))["first"]
                start_day = first or end_day
        except ValueError as exc:
            raise CommandError("日期格式应为 YYYY-MM-DD。") from exc
        total = 0
        day = start_day
        while day <= end_day:  # one month per transaction
            last = min(day + dt.timedelta(days=30), end_day)
            total += refresh_days(day, last)
            day = last + dt.timedelta(days=1)
        self.stdout.write(f"已汇总 {start_day} 至 {end_day}：{total} 行。")
