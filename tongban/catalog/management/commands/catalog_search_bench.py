"""Measure search latency over the catalogue in this database (no assertions: numbers to report)."""

from __future__ import annotations

import statistics
import time

from django.core.management.base import BaseCommand

from tongban.catalog.models import ItemImplementation, SearchEntry
from tongban.catalog.search import search_items

QUERIES = [
    "开饭店",
    "我想开个饭店需要什么材料",
    "开公司",
    "生孩子",
    "身份证过期了",
    "提公积金",
    "驾照到期",
    "低保",
    "社保卡",
    "不动产转移登记",
    "施工许可证",
    "跑运输",
    "结婚",
    "退休",
    "异地看病",
    "医师执业注册",
    "残疾证",
    "发票",
    "注销公司",
    "食品经营许可",
]


class Command(BaseCommand):
    help = "测量事项搜索耗时（毫秒）"

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=5)
        parser.add_argument("--region", default="341502")

    def handle(self, *args, rounds: int, region: str, **options):
        search_items("预热")  # jieba dictionary load, synonym words
        for label, region_code in (("不限地区", None), (f"地区 {region}", region)):
            timings = []
            for _ in range(rounds):
                for query in QUERIES:
                    start = time.perf_counter()
                    search_items(query, region=region_code)
                    timings.append((time.perf_counter() - start) * 1000)
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            self.stdout.write(
                f"{label}：{len(timings)} 次查询，索引 {SearchEntry.objects.count()} 条"
                f"（实施清单 {ItemImplementation.objects.count()} 项）；"
                f"中位数 {statistics.median(timings):.1f} ms，P95 {p95:.1f} ms，最大 {timings[-1]:.1f} ms"
            )
