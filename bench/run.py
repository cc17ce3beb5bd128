"""`make bench` — load, scale and search measured side by side, reported as ratios (issue 8).

    python -m bench.run            # full: load phases, scale at 100k and 1M (up to ~30 min)
    python -m bench.run --quick    # short load phases, scale at 100k only (< 5 min)

Steps, all in one run on one machine:

1. bench database ``tongban_bench`` (migrated, demo data, static files collected) and the scale
   database ``tongban_bench_scale`` cloned from it;
2. accounts, item recipes and pools for the load (bench.setup_data);
3. the platform as in production (bench.server): gunicorn with deploy/gunicorn.conf.py, Huey
   consumer, Redis, PostgreSQL, DEBUG off;
4. ceilings: ``/healthz`` through the same gunicorn (framework) and pgbench insert+update (database);
5. load phases from a second process (bench.load): mixed, submissions alone, acceptances alone
   (+ task completions when the workflow exists), each followed by the integrity check
   (bench.integrity); a profiled mixed phase (py-spy on the workers); worker RSS;
6. scale (bench.scale): generate 100k (and 1M) cases, p95 of every scale probe, growth ratio;
7. the catalogue search micro-benchmark (bench.catalogue);
8. results in bench/results/ (JSON + Markdown) and the ratio table printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import ceilings, cpu, load, profiling, report, server
from bench.common import (
    BENCH_DB,
    PYTHON,
    REDIS_URL,
    ROOT,
    SCALE_DB,
    VAR,
    bench_env,
    database_exists,
    log,
    pg_admin,
    run_module,
)

MODES = {
    "quick": {  # < 5 minutes from a fresh database on the 2-core machine
        "trivial": 10,
        "mixed": 20,
        "submissions": 10,
        "acceptances": 10,
        "task_completions": 10,
        "profile": 6,
        "pgbench": 8,
        "sizes": [("100k", 100_000)],
        "rounds": 30,
        "accept_pool": 1200,  # ~40 acceptances/s for 10 s, plus the mixed phase's
    },
    "full": {
        "trivial": 30,
        "mixed": 90,
        "submissions": 40,
        "acceptances": 40,
        "task_completions": 40,
        "profile": 20,
        "pgbench": 30,
        "sizes": [("100k", 100_000), ("1M", 1_000_000)],
        "rounds": 100,
        "accept_pool": 9000,
    },
}


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def prepare_database(fresh: bool) -> None:
    env = bench_env()
    if fresh and database_exists(BENCH_DB):
        pg_admin(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)')
    created = not database_exists(BENCH_DB)
    if created:
        pg_admin(f'CREATE DATABASE "{BENCH_DB}"')
    log(f"database {BENCH_DB}: migrate{', demo data' if created else ''}, collectstatic")
    manage("migrate", "--noinput", env=env)
    has_demo = pg_admin("SELECT 1 FROM accounts_user WHERE username = 'demo-citizen'", database=BENCH_DB)
    if not has_demo:
        manage("load_demo", env=env)
    manage("collectstatic", "--noinput", env=env)


def clone_scale_database() -> None:
    if database_exists(SCALE_DB):
        pg_admin(f'DROP DATABASE "{SCALE_DB}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{SCALE_DB}" TEMPLATE "{BENCH_DB}"')


def reset_progress_throttle() -> None:
    """The bench Redis database only: forget progress-query counters of earlier runs."""
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    for key in r.scan_iter(match="*cases:progress:*", count=1000):
        r.delete(key)


def load_run(
    phase: str,
    seconds: float,
    concurrency: int,
    files: dict,
    pool: list,
    extra: list[str] = (),
    cases: list | None = None,
    classify: cpu.Classify | None = None,
    processes: int = 1,
) -> dict:
    """One load phase; ``processes`` load generators side by side (only for phases without a
    shared pool of cases: each process would otherwise take the same ones)."""
    pool_file = VAR / "pool.json"
    pool_file.write_text(json.dumps(pool))
    cases_file = VAR / "cases.json"
    cases_file.write_text(json.dumps(cases or []))
    out = VAR / f"load-{phase}.json"
    commits0 = ceilings.commits()
    sampler = cpu.CpuSampler(classify or (lambda pid, ppid, comm: None))

    def one(n: int) -> Path:
        part = out if processes == 1 else VAR / f"load-{phase}-{n}.json"
        run_module(
            "load",
            "run",
            "--fixture",
            str(files["fixture"]),
            "--sessions",
            str(files["sessions"]),
            "--pool",
            str(pool_file),
            "--cases",
            str(cases_file),
            "--phase",
            phase,
            "--duration",
            str(seconds),
            "--concurrency",
            str(concurrency // processes),
            "--seed",
            str(n + 1),
            "--out",
            str(part),
            *(["--keep-samples"] if processes > 1 else []),
            *extra,
            env=bench_env(),
        )
        return part

    with sampler:
        if processes == 1:
            one(0)
        else:
            with ThreadPoolExecutor(processes) as pool_:
                parts = list(pool_.map(one, range(processes)))
            merged = load.merge([json.loads(p.read_text(encoding="utf-8")) for p in parts])
            out.write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
    time.sleep(1.2)  # pg_stat_database is flushed about once a second
    result = json.loads(out.read_text(encoding="utf-8"))
    result["db_commits_per_s"] = round((ceilings.commits() - commits0) / result["elapsed_s"], 1)
    result["cpu"] = sampler.result(result["total"]["requests"])
    result["file"] = str(out)
    t = result["total"]
    log(
        f"  {phase}: {t['rps']} req/s, p50 {t['p50_ms']} p95 {t['p95_ms']} p99 {t['p99_ms']} ms, "
        f"{t['errors']} errors, client CPU {result['client_cpu_s']} s"
    )
    for sample in result.get("error_samples", [])[:3]:
        log(f"    error: {sample}")
    return result


def classifier(srv: server.Server) -> cpu.Classify:
    """Process groups for the CPU split of a load phase (bench/cpu.py)."""

    def classify(pid: int, ppid: int, comm: str) -> str | None:
        if srv.web is not None and srv.web.pid in (pid, ppid):
            return "web workers"
        if srv.huey is not None and pid == srv.huey.pid:
            return "Huey worker"
        if comm.startswith("postgres"):
            return "PostgreSQL"
        if comm.startswith("redis-server"):
            return "Redis"
        try:
            if b"bench.load" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return "load generator"
        except OSError:
            pass
        return None

    return classify


def integrity(phase: str, result: dict) -> dict:
    checked = run_module("integrity", "--run", result["file"], env=bench_env())
    log(f"  integrity after {phase}: {'OK' if checked['ok'] else 'FAILED'}")
    return checked


def workflow_available() -> tuple[bool, str]:
    """Task completions need the back-office workflow app."""
    if (ROOT / "tongban" / "workflow" / "services.py").exists():
        return True, ""
    return False, "the back-office workflow (tongban.workflow) is not in this build"


class RssSampler(threading.Thread):
    def __init__(self, srv: server.Server) -> None:
        super().__init__(daemon=True)
        self.srv = srv
        self.peak = 0.0
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(1.0):
            values = self.srv.rss_mb().values()
            if values:
                self.peak = max(self.peak, max(values))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load, scale and search benchmarks (issue 8)")
    parser.add_argument("--quick", action="store_true", help="short phases, 100k scale only (< 5 min)")
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (default: deploy config, 2 × cores + 1)"
    )
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args(argv)
    mode = "quick" if args.quick else "full"
    cfg = MODES[mode]
    started = time.time()
    VAR.mkdir(parents=True, exist_ok=True)
    result: dict = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "mode": mode,
        "phases": {},
        "integrity": {},
        "not_available": [],
        "load": {"concurrency": args.concurrency},
    }

    log(f"{mode} run; results → bench/results/")
    result["loadavg"] = {"start": round(os.getloadavg()[0], 2)}
    prepare_database(args.fresh)
    if not args.skip_scale:
        clone_scale_database()
    result["machine"] = report.machine()
    srv = server.make(args.workers)
    result["server"] = {"workers": srv.workers, "config": "deploy/gunicorn.conf.py"}

    if not args.skip_load:
        srv.launch()  # the workers boot while the load's data is set up (nothing is measured yet)
        try:
            log("setup: accounts, recipes, pools")
            fixture = run_module(
                "setup_data", "--accept-pool", str(cfg["accept_pool"]), env=bench_env(), timeout=600
            )
            files = {"fixture": VAR / "fixture.json", "sessions": VAR / "sessions.json"}
            files["fixture"].write_text(json.dumps(fixture, ensure_ascii=False), encoding="utf-8")
            pool = fixture["accept_pool"]
            cases = fixture.get("running_cases", [])
            reset_progress_throttle()
            srv.wait_ready()
            result["setup_tasks_drained"] = srv.wait_queue_drained()
            log("database ceiling (pgbench)")
            result["db_ceiling"] = ceilings.db_ceiling(cfg["pgbench"], clients=args.concurrency)
            log(f"  {result['db_ceiling']['tps']} tps")
            sampler = RssSampler(srv)
            sampler.start()
            run_module(
                "load",
                "login",
                "--fixture",
                str(files["fixture"]),
                "--out",
                str(files["sessions"]),
                env=bench_env(),
                timeout=300,
            )
            logins = json.loads(files["sessions"].read_text(encoding="utf-8")).get("login", {})
            result["logins"] = logins
            log("framework ceiling (/healthz)")
            classify = classifier(srv)
            # Two load generators for the ceiling: one alone was the bottleneck (a single Python
            # process at one busy core while the server still had CPU to spare).
            result["phases"]["trivial"] = load_run(
                "trivial",
                cfg["trivial"],
                args.concurrency,
                files,
                [],
                classify=classify,
                processes=min(2, os.cpu_count() or 1),
            )
            for phase in ("mixed", "submissions", "acceptances", "task_completions"):
                if phase == "task_completions":
                    ok, why = workflow_available()
                    if not ok:
                        result["phases"][phase] = {"not_available": True, "why": why}
                        result["not_available"].append(f"task completions ({why})")
                        continue
                log(f"load phase: {phase}")
                r = load_run(phase, cfg[phase], args.concurrency, files, pool, cases=cases, classify=classify)
                pool, cases = r.pop("pool_left"), r.pop("cases_left")
                result["phases"][phase] = r
                result["integrity"][phase] = integrity(phase, r)
                if phase == "mixed":
                    result["rss_mb"] = {"after_mixed": srv.rss_mb()}
            # Profile on a separate mixed phase: the sampler itself costs CPU on a small machine.
            spy = profiling.start(srv.web.pid, cfg["profile"])
            if spy is not None:
                log("profiled mixed phase (py-spy on all workers)")
                r = load_run(
                    "mixed",
                    cfg["profile"],
                    args.concurrency,
                    files,
                    pool,
                    ["--seed", "7"],
                    cases=cases,
                    classify=classify,
                )
                pool, cases = r.pop("pool_left"), r.pop("cases_left")
                _, err = spy[0].communicate(timeout=cfg["profile"] + 60)
                result["profile"] = profiling.summarise(spy[1])
                result["profile"]["phase_rps"] = r["total"]["rps"]
                result["integrity"]["profiled mixed"] = integrity("profiled mixed", r)
                if not result["profile"].get("samples"):
                    result["profile"]["error"] = err[-500:]
            else:
                result["not_available"].append("profile (py-spy not installed)")
            sampler.stop_event.set()
            result.setdefault("rss_mb", {})
            result["rss_mb"].update(after={str(k): v for k, v in srv.rss_mb().items()}, peak=sampler.peak)
        finally:
            srv.stop()
        result["derived"] = report.derive(result)
        result["bottleneck"] = bottleneck(result)

    if not args.skip_scale:
        try:
            result["scale"] = run_scale(cfg, result)
        except Exception as exc:  # the load figures above are still reported
            log(f"scale failed: {exc}")
            result["scale"] = {"error": str(exc)[-2000:]}
            result["not_available"].append(f"scale (failed: {str(exc).splitlines()[-1][:200]})")

    log("catalogue search micro-benchmark")
    result["catalogue"] = run_module("catalogue", "--no-setup", env=bench_env())
    result.setdefault("derived", report.derive(result))
    result["duration_s"] = time.time() - started
    result["loadavg"]["end"] = round(os.getloadavg()[0], 2)
    js, md = report.write(result)
    print(md.read_text(encoding="utf-8"))
    log(f"wrote {js.relative_to(ROOT)} and {md.relative_to(ROOT)}")
    return 0


def run_scale(cfg: dict, result: dict) -> dict:
    env = bench_env(SCALE_DB)
    scale = {"sizes": {}, "rounds": cfg["rounds"], "growth": {}}
    for label, size in cfg["sizes"]:
        log(f"scale: generating {label} cases")
        generated = run_module("scale", "generate", "--to", str(size), env=env, timeout=3600)
        log(f"  {generated['cases']} cases in {generated['total_s']} s; probing")
        probed = run_module("scale", "probe", "--rounds", str(cfg["rounds"]), env=env, timeout=1800)
        scale["sizes"][label] = {
            "cases": probed["cases"],
            "generate": generated,
            "probes": probed["probes"],
        }
    labels = [label for label, _ in cfg["sizes"]]
    if len(labels) > 1:
        first, last = (scale["sizes"][x]["probes"] for x in (labels[0], labels[-1]))
        for key, p in last.items():
            if p.get("available") and first.get(key, {}).get("available"):
                scale["growth"][key] = round(p["p95_ms"] / first[key]["p95_ms"], 2)
    for p in scale["sizes"][labels[-1]]["probes"].values():
        if not p.get("available"):
            result["not_available"].append(f"scale probe “{p['label']}” ({p['why']})")
    return scale


def bottleneck(result: dict) -> str:
    """The biggest bottleneck, stated from the measurements (profile categories + per-kind latency)."""
    parts = []
    mixed_cpu = result.get("phases", {}).get("mixed", {}).get("cpu")
    if mixed_cpu:
        share = mixed_cpu["share"]
        ranked = sorted((g for g in share if share[g] is not None), key=lambda g: -share[g])
        parts.append(
            f"the machine was {mixed_cpu['busy_cores']} cores busy during mixed load, "
            + ", ".join(f"{g} {share[g]}%" for g in ranked[:4])
            + " of it"
        )
    prof = result.get("profile", {})
    cats = [c for c in prof.get("categories", []) if c[0] != "gunicorn / WSGI"]
    if cats:
        top = cats[0]
        parts.append(f"{top[0]} takes {top[1]}% of the web workers' CPU samples during mixed load")
    mixed = result.get("phases", {}).get("mixed", {})
    if mixed.get("kinds"):
        slow = max(mixed["kinds"].items(), key=lambda kv: kv[1]["p95_ms"])
        parts.append(f"the slowest kind is {slow[0]} (p95 {slow[1]['p95_ms']} ms)")
        cpu = mixed.get("client_cpu_s")
        if cpu:
            share = round(100 * cpu / mixed["elapsed_s"] / (os.cpu_count() or 1))
            parts.append(
                f"the load generator itself used {cpu} CPU-s in {mixed['elapsed_s']} s "
                f"({share}% of the machine's cores)"
            )
    return "; ".join(parts) + "." if parts else ""


if __name__ == "__main__":
    sys.exit(main())
