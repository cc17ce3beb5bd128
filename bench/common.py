"""Paths, the benchmark environment and small PostgreSQL helpers shared by the bench modules.

Nothing here imports Django: the orchestrator (run.py) and the load generator (load.py) stay
free of it; the modules that need Django (setup_data, scale, integrity, catalogue) call
``django_setup()`` in their own process with the environment built by ``bench_env()``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VAR = Path(os.environ.get("BENCH_VAR_DIR", ROOT / "var" / "bench"))
PYTHON = sys.executable

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB", "tongban_bench")
SCALE_DB = os.environ.get("BENCH_SCALE_DB", "tongban_bench_scale")
# A Redis database of its own (cache + Huey queue of the bench server); flushed only by key pattern.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
HOST = "127.0.0.1"
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE_URL = f"http://{HOST}:{PORT}"
SECRET_KEY = "bench-only-secret-key-not-for-production-0123456789abcdef"


def db_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def bench_env(database: str = BENCH_DB, **extra: str) -> dict[str, str]:
    """The production profile, configured as in deploy/env.example, on the bench database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="tongban.settings.production",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=db_url(database),
        REDIS_URL=REDIS_URL,
        HUEY_NAME="tongban-bench",
        ALLOWED_HOSTS=f"{HOST},localhost",
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}:{PORT}",
        # No proxy in front: the load generator sends X-Forwarded-Proto like the TLS terminator would.
        SECURE_SSL_REDIRECT="0",
        TONGBAN_VAR_DIR=str(VAR / "server"),
        LOG_LEVEL="WARNING",
        DEBUG="0",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def django_setup() -> None:
    """For modules run as ``python -m bench.<module>`` with ``bench_env()``."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tongban.settings.production")
    import django

    django.setup()


def run_module(module: str, *args: str, env: dict[str, str], timeout: float | None = None) -> dict:
    """Run ``python -m bench.<module> args…`` and parse the last stdout line as JSON."""
    proc = subprocess.run(
        [PYTHON, "-m", f"bench.{module}", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.{module} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def pg_admin(sql: str, database: str = "postgres", autocommit: bool = True) -> list[tuple]:
    import psycopg

    with psycopg.connect(db_url(database), autocommit=autocommit) as conn:
        cur = conn.execute(sql)
        return cur.fetchall() if cur.description else []


def database_exists(name: str) -> bool:
    return bool(pg_admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    k = max(0, min(len(sorted_values) - 1, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


_STARTED = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr, with the seconds since this process started (where a run spends time)."""
    print(f"[bench {time.monotonic() - _STARTED:6.0f}s] {message}", file=sys.stderr, flush=True)
