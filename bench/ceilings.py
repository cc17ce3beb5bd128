"""The database's ceiling: a raw insert + update transaction mix with pgbench (the shape of a
submission: a row written, then its status changed, in one transaction), on the bench database,
same server, same run. The framework's ceiling (/healthz through the same gunicorn) is a load
phase of its own (bench.load, phase "trivial")."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

from bench.common import BENCH_DB, db_url, pg_admin

SCRIPT = """\\set cid random(1, 100000000)
BEGIN;
INSERT INTO bench_ceiling (case_id, status, payload, updated_at)
  VALUES (:cid, 'submitted', '{"round": 1}', now());
UPDATE bench_ceiling SET status = 'accepted', updated_at = now() WHERE id = currval('bench_ceiling_id_seq');
COMMIT;
"""


def pgbench_available() -> bool:
    return shutil.which("pgbench") is not None


def db_ceiling(duration: int, clients: int) -> dict:
    """Transactions per second of the insert+update mix, or the psycopg fallback without pgbench."""
    pg_admin(
        "CREATE TABLE IF NOT EXISTS bench_ceiling (id bigserial PRIMARY KEY, case_id bigint NOT NULL, "
        "status varchar(24) NOT NULL, payload jsonb NOT NULL, updated_at timestamptz NOT NULL)",
        database=BENCH_DB,
    )
    pg_admin("TRUNCATE bench_ceiling", database=BENCH_DB)
    if not pgbench_available():
        return _psycopg_ceiling(duration, clients)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(SCRIPT)
        script = fh.name
    proc = subprocess.run(
        [
            "pgbench",
            "-n",
            "-M",
            "prepared",
            "-c",
            str(clients),
            "-j",
            "2",
            "-T",
            str(duration),
            "-f",
            script,
            db_url(BENCH_DB),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tps = float(re.search(r"tps = ([\d.]+)", proc.stdout).group(1))
    latency = re.search(r"latency average = ([\d.]+) ms", proc.stdout)
    return {
        "tool": "pgbench",
        "clients": clients,
        "duration_s": duration,
        "tps": round(tps, 1),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
    }


def _psycopg_ceiling(duration: int, clients: int) -> dict:
    import threading
    import time

    import psycopg

    counts = [0] * clients
    deadline = time.perf_counter() + duration

    def worker(n: int) -> None:
        with psycopg.connect(db_url(BENCH_DB)) as conn:
            while time.perf_counter() < deadline:
                with conn.transaction():
                    row = conn.execute(
                        "INSERT INTO bench_ceiling (case_id, status, payload, updated_at) "
                        "VALUES (%s, 'submitted', '{}', now()) RETURNING id",
                        (n,),
                    ).fetchone()
                    conn.execute("UPDATE bench_ceiling SET status = 'accepted' WHERE id = %s", (row[0],))
                counts[n] += 1

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {
        "tool": "psycopg",
        "clients": clients,
        "duration_s": duration,
        "tps": round(sum(counts) / (time.perf_counter() - started), 1),
    }


def commits() -> int:
    """Committed transactions of the bench database so far (pg_stat_database)."""
    return pg_admin(f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{BENCH_DB}'")[0][0]
