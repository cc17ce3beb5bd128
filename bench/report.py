"""Results: machine description, JSON and a short Markdown report with ratios to the ceilings."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

from bench.common import BENCH_DB, RESULTS, ROOT, pg_admin

TARGETS = {
    "mixed_ratio": 0.40,
    "mixed_p99_ms": 250,
    "submissions_ratio": 0.25,
    "acceptances_ratio": 0.30,
    "task_completions_ratio": 0.30,
    "scale_p95_ms": 100,
    "scale_growth": 1.5,
    "rss_mb": 250,
}


def machine() -> dict:
    info = {
        "nproc": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        info["postgresql"] = pg_admin("SHOW server_version", database=BENCH_DB)[0][0]
    except Exception:
        info["postgresql"] = "?"
    try:
        info["commit"] = (
            os.environ.get("BENCH_COMMIT")
            or subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
        )
    except OSError:
        info["commit"] = "?"
    return info


def _ok(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "**no**")


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def derive(result: dict) -> dict:
    """Ratios and target verdicts from the raw phases."""
    phases = result.get("phases", {})
    trivial = phases.get("trivial", {}).get("total", {}).get("rps")
    db_tps = result.get("db_ceiling", {}).get("tps")
    d: dict[str, dict] = {}
    mixed = phases.get("mixed")
    if mixed:
        d["mixed"] = {
            "rps": mixed["total"]["rps"],
            "ratio": _ratio(mixed["total"]["rps"], trivial),
            "p99_ms": mixed["total"]["p99_ms"],
            "errors": mixed["total"]["errors"],
            "db_commits_per_s": mixed.get("db_commits_per_s"),
            "db_ratio": _ratio(mixed.get("db_commits_per_s"), db_tps),
        }
    for name in ("submissions", "acceptances", "task_completions"):
        phase = phases.get(name)
        if phase and not phase.get("not_available"):
            flows = sum(f["per_s"] for f in phase.get("flows", {}).values() if f)
            d[name] = {
                "rps": phase["total"]["rps"],
                "ratio": _ratio(phase["total"]["rps"], trivial),
                "p99_ms": phase["total"]["p99_ms"],
                "errors": phase["total"]["errors"],
                "flows_per_s": round(flows, 1),
                "db_commits_per_s": phase.get("db_commits_per_s"),
                "db_ratio": _ratio(phase.get("db_commits_per_s"), db_tps),
            }
        elif phase:
            d[name] = {"not_available": phase.get("why", "not available")}
    d["budget"] = budget(result)
    return d


#: Phase → the throughput target it is held to (a ratio to the trivial endpoint).
PHASE_TARGETS = {
    "mixed": "mixed_ratio",
    "submissions": "submissions_ratio",
    "acceptances": "acceptances_ratio",
    "task_completions": "task_completions_ratio",
}


def budget(result: dict) -> dict:
    """What each throughput target leaves the web workers, from the phase's CPU per request.

    The machine's cores are shared by everything in the run, so at the target rate one request
    may cost at most ``cores × 1000 / (target × trivial req/s)`` ms of the machine's CPU. What
    PostgreSQL, the Huey worker, Redis, the load generator and the rest of the host spent per
    request comes off that first; the web workers get what remains. ``best_ratio`` is the ratio
    the phase would reach if its web work cost no more than a ``/healthz`` request: when it is
    below the target, no amount of work in the web workers alone can meet it."""
    phases = result.get("phases", {})
    trivial = phases.get("trivial", {})
    trivial_rps = trivial.get("total", {}).get("rps")
    cores = result.get("machine", {}).get("nproc")
    trivial_web = (trivial.get("cpu") or {}).get("ms_per_request", {}).get("web workers")
    out: dict[str, dict] = {}
    for name, key in PHASE_TARGETS.items():
        per = ((phases.get(name) or {}).get("cpu") or {}).get("ms_per_request")
        if not per or not trivial_rps or not cores or per.get("web workers") is None:
            continue
        target = TARGETS[key]
        allowance = cores * 1000 / (target * trivial_rps)
        rest = sum(v for g, v in per.items() if g != "web workers" and v is not None)
        web = per["web workers"]
        web_allowed = allowance - rest
        best = None
        if trivial_web is not None:
            best = round(cores * 1000 / (trivial_web + rest) / trivial_rps, 3)
        out[name] = {
            "target": target,
            "allowance_ms": round(allowance, 2),
            "rest_ms": round(rest, 2),
            "web_ms": web,
            "web_allowed_ms": round(web_allowed, 2),
            "web_cut_needed": round(web / web_allowed, 1) if web_allowed > 0 else None,
            "best_ratio": best,
        }
    return out


def _budget_lines(rows: dict[str, dict]) -> list[str]:
    """The ``budget`` rows as a Markdown table."""
    if not rows:
        return []
    lines = [
        "",
        "What each throughput target leaves the web workers (machine CPU ms per request; the rest "
        "is PostgreSQL, Huey, Redis, the load generator and the host; `bench/report.py` `budget`):",
        "",
        "| phase | target | allowed per request | the rest took | web workers took | web may take "
        "| web must get cheaper by | ratio if web cost what `/healthz` costs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, b in rows.items():
        cut = f"{b['web_cut_needed']}×" if b["web_cut_needed"] else "out of reach (the rest alone is over)"
        lines.append(
            f"| {name} | {b['target']:.2f} | {b['allowance_ms']} | {b['rest_ms']} | {b['web_ms']} | "
            f"{max(b['web_allowed_ms'], 0)} | {cut} | {b['best_ratio']} |"
        )
    return lines


#: A scale probe that reads no cases: its growth between the two sizes is the host's drift.
DRIFT_PROBE = "catalogue_search"


def _drift_lines(scale: dict, probes: dict) -> list[str]:
    """The growths divided by the drift of a probe that does not depend on the case count: the
    two sizes are probed minutes apart, and a shared host's speed moves in between. The verdicts
    above stay on the raw growth."""
    growth = scale.get("growth", {})
    drift = growth.get(DRIFT_PROBE)
    if not drift:
        return []
    corrected = ", ".join(
        f"{probes[key]['label']} {round(g / drift, 2)}" for key, g in growth.items() if key != DRIFT_PROBE
    )
    return [
        "",
        f"Host drift: {probes[DRIFT_PROBE]['label']} reads no cases, yet its p95 changed {drift}× "
        f"between the two probe runs. Growth divided by that drift: {corrected}.",
    ]


def _ceiling_processes(trivial_phase: dict) -> str:
    n = trivial_phase.get("processes", 1)
    return f" ({n} such processes, splitting the connections, for the `/healthz` ceiling)" if n > 1 else ""


def markdown(result: dict) -> str:
    m = result["machine"]
    d = result["derived"]
    phases = result.get("phases", {})
    trivial_phase = phases.get("trivial", {})
    trivial = trivial_phase.get("total", {})
    db = result.get("db_ceiling", {})
    workers = result["server"]["workers"]
    load = result.get("loadavg", {})
    lines = [
        f"Run {result['when']} ({result['mode']} mode, {result['duration_s']:.0f} s) on "
        f"{m.get('cpu', '?')}, {m['nproc']} cores, {m.get('memory_gb', '?')} GB, "
        f"PostgreSQL {m.get('postgresql')}, Python {m['python']}, commit {m.get('commit')}; "
        f"gunicorn {workers} sync workers (deploy/gunicorn.conf.py) + Huey consumer, Redis, DEBUG off; "
        f"load from one asyncio httpx process with {result['load']['concurrency']} connections on the "
        f"same machine{_ceiling_processes(trivial_phase)}; "
        f"1-minute load average {load.get('start', '?')} at the start, "
        f"{load.get('end', '?')} at the end (other work on the machine counts against every figure).",
        "",
        "| measure | figure | ceiling | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    if not phases:
        lines = [*lines[:-2], "(load phases skipped in this run)"]
    else:
        lines += [
            f"| framework ceiling: `/healthz` through the same gunicorn | {trivial.get('rps')} req/s "
            "| — | 1 | — | — |",
            f"| database ceiling: {db.get('tool', 'pgbench')} insert+update transaction | "
            f"{db.get('tps')} tps | — | 1 | — | — |",
        ]
    ceiling = f"{trivial.get('rps')} req/s"
    if "mixed" in d:
        mx = d["mixed"]
        ok_ratio = mx["ratio"] is not None and mx["ratio"] >= TARGETS["mixed_ratio"]
        lines += [
            f"| mixed load throughput | {mx['rps']} req/s | {ceiling} | {mx['ratio']} | ≥ 0.40 | "
            f"{_ok(ok_ratio)} |",
            f"| mixed load p99 at that rate | {mx['p99_ms']} ms | — | — | < 250 ms | "
            f"{_ok(mx['p99_ms'] < TARGETS['mixed_p99_ms'])} |",
            f"| mixed load errors | {mx['errors']} | — | — | 0 | {_ok(mx['errors'] == 0)} |",
            f"| mixed load DB commits | {mx['db_commits_per_s']} /s | {db.get('tps')} tps | "
            f"{mx['db_ratio']} | — | — |",
        ]
    for name, label, target in (
        ("submissions", "submissions alone (create + uploads + submit)", TARGETS["submissions_ratio"]),
        ("acceptances", "acceptances alone", TARGETS["acceptances_ratio"]),
        ("task_completions", "task completions alone", TARGETS["task_completions_ratio"]),
    ):
        x = d.get(name)
        if x is None:
            continue
        if "not_available" in x:
            lines.append(f"| {label} | not available | — | — | ≥ {target:.2f} | n/a ({x['not_available']}) |")
            continue
        met = x["ratio"] is not None and x["ratio"] >= target and x["errors"] == 0
        lines.append(
            f"| {label} | {x['rps']} req/s ({x['flows_per_s']} /s completed), p99 {x['p99_ms']} ms, "
            f"{x['errors']} errors | {ceiling} | {x['ratio']} | ≥ {target:.2f} | {_ok(met)} |"
        )
        lines.append(
            f"| {label}: DB commits | {x['db_commits_per_s']} /s | {db.get('tps')} tps | "
            f"{x['db_ratio']} | — | — |"
        )
    rss = result.get("rss_mb", {})
    if rss:
        worst = max(rss.get("after", {}).values() or [0])
        peak = rss.get("peak", 0)
        # The target is the RSS after the load. The peak comes from the logins: Argon2 hashes
        # with a 100 MiB memory cost (Django's default), allocated and returned per login.
        lines.append(
            f"| web worker RSS after the load (peak during, Argon2 logins) | {worst} MB ({peak} MB) "
            f"| — | — | < 250 MB | {_ok(worst < TARGETS['rss_mb'])} |"
        )
    if "mixed" in phases:
        lines += [
            "",
            "Mixed load per kind:",
            "",
            "| kind | req/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|",
        ]
        for kind, s in phases["mixed"]["kinds"].items():
            lines.append(
                f"| {kind} | {s['rps']} | {s['p50_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['errors']} |"
            )
        lines.append(
            f"| **all** | {phases['mixed']['total']['rps']} | {phases['mixed']['total']['p50_ms']} | "
            f"{phases['mixed']['total']['p95_ms']} | {phases['mixed']['total']['p99_ms']} | "
            f"{phases['mixed']['total']['errors']} |"
        )
    with_cpu = {name: p for name, p in phases.items() if isinstance(p, dict) and p.get("cpu")}
    if with_cpu:
        from bench.cpu import GROUPS

        lines += [
            "",
            "Where the machine's CPU went in each phase (CPU ms per request, from /proc; bench/cpu.py):",
            "",
            "| phase | req/s | busy cores | " + " | ".join(GROUPS) + " |",
            "|---|---|---|" + "---|" * len(GROUPS),
        ]
        for name, p in with_cpu.items():
            per = p["cpu"]["ms_per_request"]
            lines.append(
                f"| {name} | {p['total']['rps']} | {p['cpu']['busy_cores']} | "
                + " | ".join(str(per.get(g)) for g in GROUPS)
                + " |"
            )
        lines += _budget_lines(d.get("budget") or budget(result))
    scale = result.get("scale", {})
    if scale.get("sizes"):
        labels = list(scale["sizes"])
        lines += [
            "",
            f"Scale (p95 ms, in-process through the full Django stack, {scale.get('rounds')} rounds each):",
            "",
        ]
        header = (
            "| query | "
            + " | ".join(labels)
            + (" | growth " + labels[-1] + "/" + labels[0] if len(labels) > 1 else "")
            + " | target |"
        )
        lines += [header, "|" + "---|" * (len(labels) + (3 if len(labels) > 1 else 2))]
        first = scale["sizes"][labels[0]]["probes"]
        for key, probe in first.items():
            cells = []
            for label in labels:
                p = scale["sizes"][label]["probes"].get(key, {})
                cells.append(str(p["p95_ms"]) if p.get("available") else "not available")
            row = f"| {probe['label']} | " + " | ".join(cells)
            if len(labels) > 1:
                g = scale.get("growth", {}).get(key)
                row += f" | {g if g is not None else 'n/a'}"
            last = scale["sizes"][labels[-1]]["probes"].get(key, {})
            met = None
            if last.get("available"):
                met = last["p95_ms"] < TARGETS["scale_p95_ms"]
                g = scale.get("growth", {}).get(key)
                if g is not None:
                    met = met and g <= TARGETS["scale_growth"]
            row += f" | < 100 ms{', growth ≤ 1.5' if len(labels) > 1 else ''}: {_ok(met)} |"
            lines.append(row)
        lines += _drift_lines(scale, first)
        gen = " · ".join(
            f"{k}: {v.get('cases')} cases ({v.get('generate', {}).get('total_s', '?')} s to generate)"
            for k, v in scale["sizes"].items()
        )
        lines += ["", f"Generated: {gen}."]
    integ = result.get("integrity", {})
    if integ:
        lines += [
            "",
            "Integrity after each load run (history chains, lost / duplicate cases, half-written states):",
            "",
        ]
        for phase, r in integ.items():
            bad = [f"{k} {v['bad']}" for k, v in r["checks"].items() if v["bad"]]
            lines.append(
                f"- {phase}: {'OK' if r['ok'] else 'FAILED: ' + ', '.join(bad)} — {r['cases']} cases, "
                f"{r['events']} events, {r['checked_submitted']} submissions and {r['checked_accepted']} "
                f"acceptances confirmed to the client all found" + ("" if r["ok"] else " (see JSON)")
            )
    prof = result.get("profile", {})
    if prof.get("categories"):
        lines += [
            "",
            f"Profile ({prof['tool']}, {prof['samples']} samples of the web workers during a mixed phase):",
            "",
        ]
        lines += ["| where the workers' CPU goes | share |", "|---|---|"]
        for cat, share in prof["categories"]:
            lines.append(f"| {cat} | {share}% |")
        lines += ["", "Hottest own-code frames (inclusive):", ""]
        for frame, share in prof.get("top_frames", [])[:8]:
            lines.append(f"- {share}% `{frame}`")
    if result.get("bottleneck"):
        lines += ["", f"**Biggest bottleneck:** {result['bottleneck']}"]
    cat = result.get("catalogue")
    if cat:
        from bench.catalogue import table

        lines += ["", "Catalogue search micro-benchmark (in-process, same database):", "", *table(cat)]
    na = result.get("not_available", [])
    if na:
        lines += ["", "Not available in this build (reported, not measured): " + "; ".join(na) + "."]
    return "\n".join(lines) + "\n"


def quote_in_readme(table: str) -> None:
    """Replace the text between the bench:latest markers of bench/README.md."""
    readme = ROOT / "bench" / "README.md"
    if not readme.exists():
        return
    text = readme.read_text(encoding="utf-8")
    start, end = "<!-- bench:latest -->", "<!-- /bench:latest -->"
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{table.strip()}\n{end}{tail}", encoding="utf-8")


def write(result: dict) -> tuple[Path, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"bench-{result['mode']}"
    js = RESULTS / f"{name}.json"
    md = RESULTS / f"{name}.md"
    js.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")
    md.write_text(markdown(result), encoding="utf-8")
    (RESULTS / "latest.md").write_text(md.read_text(encoding="utf-8"), encoding="utf-8")
    quote_in_readme(md.read_text(encoding="utf-8"))
    result["stamp"] = stamp
    return js, md
