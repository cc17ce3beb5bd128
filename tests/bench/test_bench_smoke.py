"""Smoke test of the benchmark modules (issue 8): they import, the TOTP helper of the load
generator agrees with django-otp, and the scale generator writes a small consistent dataset.
No timing assertions: the benchmarks themselves run with `make bench`."""

from __future__ import annotations

import importlib
import time

import pytest

from tests.cases import factories as f

MODULES = [
    "bench.common",
    "bench.load",
    "bench.server",
    "bench.ceilings",
    "bench.scale",
    "bench.integrity",
    "bench.report",
    "bench.profiling",
    "bench.setup_data",
    "bench.catalogue",
    "bench.cpu",
    "bench.run",
]


@pytest.mark.parametrize("name", MODULES)
def test_bench_modules_import(name):
    importlib.import_module(name)


def test_load_generator_totp_matches_django_otp():
    from django_otp.oath import totp as otp_totp

    from bench.load import totp
    from bench.setup_data import totp_key

    key = totp_key("bench-clerk-1-0")
    now = time.time()
    assert totp(key, at=now) == f"{otp_totp(bytes.fromhex(key), t0=0, step=30, digits=6, drift=0):06d}" or (
        int(now) % 30 == 29  # the step turned over between the two calls
    )


def test_scenarios_and_phases_are_consistent():
    from bench.load import PHASES, SCENARIOS

    for weights in PHASES.values():
        assert set(weights) <= set(SCENARIOS)


def test_progress_queries_come_from_distinct_addresses():
    """Ten queries an hour per address: a full run's mixed phase used one address for the 1st and
    the 129th client and was refused 465 times."""
    from bench.load import progress_address

    addresses = [progress_address(7, counter) for counter in range(1, 20_000)]
    assert len(set(addresses)) == len(addresses)
    assert all(a.startswith("127.8.") and 0 < int(a.rsplit(".", 1)[1]) < 255 for a in addresses)


@pytest.mark.django_db
def test_scale_generator_writes_fifty_consistent_cases(calendar_2026):
    from bench import integrity, scale
    from tongban.cases.models import Application, CaseEvent, CaseNumberCounter

    impl = f.item()
    f.clerk(impl.organisation)
    f.item(name="个体工商户登记")
    ctx = scale.load_context()
    made = scale.generate(ctx, scale.Plan(count=50, person_pool=20))

    assert made["cases"] == 50 == Application.objects.count()
    assert made["events"] == CaseEvent.objects.count() >= 50
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses & {"completed", "accepted", "refused", "draft"}
    # Every accepted case has a number; the daily counters continue after the highest number.
    for app in Application.objects.exclude(case_number=None):
        counter = CaseNumberCounter.objects.get(implementation=app.implementation, date=app.received_date)
        assert int(app.case_number[-6:]) <= counter.last
    checked = integrity.run_checks([], [])
    assert checked["ok"], checked["checks"]
    assert checked["cases"] == 50


@pytest.mark.django_db
def test_integrity_check_finds_a_broken_chain(calendar_2026):
    from bench import integrity, scale
    from tongban.cases.models import Application

    f.item()
    scale.generate(scale.load_context(), scale.Plan(count=5, person_pool=5, fixed_status="submitted"))
    Application.objects.filter(pk=Application.objects.first().pk).update(status="accepted")
    checked = integrity.run_checks([], [])
    assert not checked["ok"]
    assert checked["checks"]["chain_end"]["bad"] == 1
    assert checked["checks"]["half_accepted"]["bad"] == 1


def _phase(rps: float, p99: float = 50.0, errors: int = 0) -> dict:
    stats = {"requests": 10, "errors": errors, "rps": rps, "p50_ms": 5, "p95_ms": 9, "p99_ms": p99}
    return {"total": stats, "kinds": {"search": stats}, "flows": {}, "elapsed_s": 10, "client_cpu_s": 1}


def test_report_renders_ratios_and_not_available(tmp_path, monkeypatch):
    from bench import report

    result = {
        "when": "2026-11-23 14:00:00",
        "mode": "quick",
        "duration_s": 100,
        "machine": {"nproc": 2, "python": "3.11", "cpu": "x", "postgresql": "15"},
        "server": {"workers": 5},
        "load": {"concurrency": 16},
        "db_ceiling": {"tool": "pgbench", "tps": 1000},
        "phases": {
            "trivial": _phase(200),
            "mixed": {
                **_phase(100),
                "db_commits_per_s": 300,
                "cpu": {"busy_cores": 1.9, "ms_per_request": {"web workers": 11.5, "PostgreSQL": 4.2}},
            },
            "task_completions": {"not_available": True, "why": "no workflow"},
        },
        "scale": {
            "rounds": 10,
            "sizes": {
                "100k": {"cases": 100, "probes": {"p": {"label": "probe", "available": True, "p95_ms": 10}}},
                "1M": {"cases": 1000, "probes": {"p": {"label": "probe", "available": True, "p95_ms": 12}}},
            },
            "growth": {"p": 1.2},
        },
        "not_available": ["task completions (no workflow)"],
    }
    result["derived"] = report.derive(result)
    assert result["derived"]["mixed"]["ratio"] == 0.5
    text = report.markdown(result)
    assert "| mixed load throughput | 100 req/s | 200 req/s | 0.5 | ≥ 0.40 | yes |" in text
    assert "task completions alone | not available" in text
    assert "| probe | 10 | 12 | 1.2 |" in text
    assert "| mixed | 100 | 1.9 | 11.5 | 4.2 | None |" in text


def test_report_budget_shows_what_a_target_leaves_the_web_workers():
    from bench import report

    def cpu(web: float, rest: float) -> dict:
        return {"busy_cores": 2.0, "ms_per_request": {"web workers": web, "PostgreSQL": rest}}

    result = {
        "machine": {"nproc": 2},
        "phases": {
            "trivial": {**_phase(1000), "cpu": cpu(0.5, 0.0)},
            # 0.40 × 1000 req/s on 2 cores: 5 ms per request; 2 go to PostgreSQL, 3 are left.
            "mixed": {**_phase(150), "cpu": cpu(9.0, 2.0)},
            # 0.30 × 1000 req/s: 6.67 ms; PostgreSQL alone takes 8.
            "acceptances": {**_phase(80), "cpu": cpu(12.0, 8.0)},
        },
    }
    b = report.budget(result)
    assert b["mixed"] == {
        "target": 0.40,
        "allowance_ms": 5.0,
        "rest_ms": 2.0,
        "web_ms": 9.0,
        "web_allowed_ms": 3.0,
        "web_cut_needed": 3.0,
        "best_ratio": 0.8,
    }
    assert b["acceptances"]["web_cut_needed"] is None
    assert b["acceptances"]["best_ratio"] == 0.235  # 2000 / 8.5 ms / 1000 req/s
    text = "\n".join(report._budget_lines(b))
    assert "| mixed | 0.40 | 5.0 | 2.0 | 9.0 | 3.0 | 3.0× | 0.8 |" in text
    assert "| acceptances | 0.30 | 6.67 | 8.0 | 12.0 | 0 | out of reach" in text


def test_cpu_sampler_counts_a_busy_process_in_its_group():
    import subprocess
    import sys

    from bench.cpu import CpuSampler

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 1.2:\n    pass"
    child = subprocess.Popen([sys.executable, "-c", burn])
    sampler = CpuSampler(lambda pid, ppid, comm: "web workers" if pid == child.pid else None, interval=0.1)
    with sampler:
        child.wait()
    result = sampler.result(requests=10)
    assert result["cpu_s"]["web workers"] >= 0.8  # sampled up to its last tenth of a second
    per_request = result["ms_per_request"]["web workers"]
    assert per_request == pytest.approx(100 * result["cpu_s"]["web workers"], abs=1)
    assert result["cpu_s"]["PostgreSQL"] == 0.0


def test_load_results_of_processes_side_by_side_merge():
    from bench import load

    def part(samples: list[float], elapsed: float, errors: int = 0) -> dict:
        rec = load.Recorder()
        for ms in samples:
            rec.add("trivial", ms, True)
        rec.errors["trivial"] = errors
        out = load.summarise(rec, elapsed)
        out.update(
            phase="trivial",
            client_cpu_s=1.5,
            samples=dict(rec.samples),
            sample_errors=dict(rec.errors),
            submitted_ids=[len(samples)],
        )
        return out

    merged = load.merge([part([1.0] * 90 + [50.0] * 10, 10.0), part([2.0] * 100, 9.5, errors=1)])
    assert merged["total"]["requests"] == 200 and merged["total"]["rps"] == 20.0
    assert merged["total"]["errors"] == 1
    assert merged["total"]["p50_ms"] == 2.0 and merged["total"]["p99_ms"] == 50.0
    assert merged["client_cpu_s"] == 3.0 and merged["processes"] == 2
    assert merged["phase"] == "trivial" and merged["submitted_ids"] == [100, 100]
    assert "samples" not in merged


def test_report_divides_scale_growth_by_the_host_drift():
    from bench import report

    probes = {
        "my_cases": {"label": "my cases", "available": True, "p95_ms": 10},
        "catalogue_search": {"label": "catalogue search", "available": True, "p95_ms": 5},
    }
    scale = {"growth": {"my_cases": 1.6, "catalogue_search": 1.25}}
    text = "\n".join(report._drift_lines(scale, probes))
    assert "catalogue search reads no cases, yet its p95 changed 1.25×" in text
    assert "my cases 1.28" in text
    assert report._drift_lines({"growth": {"my_cases": 1.6}}, probes) == []
