"""Catalogue search and working-day arithmetic over the demo data, next to a trivial indexed
query measured in the same run (the benchmark that existed before issue 8; now one section of
the `make bench` report, and still runnable on its own against any database)::

    python -m bench.catalogue              # settings from the environment (SQLite under var/ by default)
    python -m bench.catalogue --no-setup   # the database is already migrated with the demo data

Prints one JSON document on the last stdout line; ``--write`` also writes
bench/results/latest-<database>.json/.md as the old script did.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

QUERIES = [
    "开饭店",
    "营业执照",
    "补办户口本",
    "生孩子",
    "退休",
    "公积金提取",
    "结婚",
    "低保",
    "驾驶证到期换证",
    "残疾证",
    "开公司",
    "房子过户",
]
ROUNDS = 30


def measure(fn, rounds: int) -> dict:
    fn()  # warm-up: caches, jieba dictionary
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 3),
        "rounds": rounds,
    }


def run(setup: bool = True) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from tongban.catalog.search import search_items
    from tongban.core.models import Region
    from tongban.core.workdays import add_working_days

    if setup:
        call_command("migrate", verbosity=0)
        call_command("load_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115

    trivial = measure(lambda: Region.objects.filter(code="341502").exists(), ROUNDS * len(QUERIES))
    search = {q: measure(lambda q=q: search_items(q, region="341502"), ROUNDS) for q in QUERIES}
    search_p50 = round(statistics.median(r["p50_ms"] for r in search.values()), 3)
    search_p95 = max(r["p95_ms"] for r in search.values())
    workdays = measure(lambda: add_working_days(date(2026, 9, 18), 20), ROUNDS * 4)
    return {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "database": connection.vendor,
        "trivial_indexed_query": trivial,
        "catalogue_search": {"per_query": search, "median_p50_ms": search_p50, "worst_p95_ms": search_p95},
        "add_working_days_20": workdays,
        "ratios_to_trivial_p50": {
            "catalogue_search": round(search_p50 / trivial["p50_ms"], 1),
            "add_working_days_20": round(workdays["p50_ms"] / trivial["p50_ms"], 1),
        },
    }


def table(result: dict) -> list[str]:
    trivial, workdays = result["trivial_indexed_query"], result["add_working_days_20"]
    search = result["catalogue_search"]
    ratios = result["ratios_to_trivial_p50"]
    return [
        "| measure | p50 ms | p95 ms | p50 / trivial query |",
        "|---|---|---|---|",
        f"| trivial indexed query (baseline) | {trivial['p50_ms']} | {trivial['p95_ms']} | 1 |",
        f"| catalogue search, 12 everyday queries (median / worst) | {search['median_p50_ms']} | "
        f"{search['worst_p95_ms']} | {ratios['catalogue_search']} |",
        f"| add_working_days(receipt, 20) | {workdays['p50_ms']} | {workdays['p95_ms']} | "
        f"{ratios['add_working_days_20']} |",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="catalogue search micro-benchmark")
    parser.add_argument("--no-setup", action="store_true", help="skip migrate + load_demo")
    parser.add_argument("--write", action="store_true", help="write bench/results/latest-<db>.*")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings.dev")
    import django

    django.setup()
    result = run(setup=not args.no_setup)
    if args.write:
        out = ROOT / "bench" / "results"
        out.mkdir(parents=True, exist_ok=True)
        name = f"latest-{result['database']}"
        (out / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", "utf-8")
        lines = [f"Run {result['when']} on {result['machine']}, database {result['database']}.", ""]
        (out / f"{name}.md").write_text("\n".join([*lines, *table(result)]) + "\n", encoding="utf-8")
        print("\n".join([*lines, *table(result)]), file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
