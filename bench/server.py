"""The platform as in production: gunicorn with deploy/gunicorn.conf.py (no proxy in front),
PostgreSQL, Redis, the Huey consumer, DEBUG off — on the bench database."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.common import BASE_URL, HOST, PORT, PYTHON, ROOT, VAR, bench_env, log


@dataclass
class Server:
    env: dict[str, str]
    workers: int
    web: subprocess.Popen | None = None
    huey: subprocess.Popen | None = None
    logs: list = field(default_factory=list)

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start gunicorn and the Huey consumer without waiting (boot overlaps other setup)."""
        VAR.mkdir(parents=True, exist_ok=True)
        # No recycling: the ceiling phase sends each worker about 3 000 requests in 20 s, and
        # production's recycling after 2 000 restarted all five inside it, so the ceiling measured
        # their start-up. The memory target is then checked on workers that served the whole run.
        env = dict(
            self.env, BIND=f"{HOST}:{PORT}", WEB_CONCURRENCY=str(self.workers), GUNICORN_MAX_REQUESTS="0"
        )
        web_log = open(VAR / "gunicorn.log", "w")  # noqa: SIM115
        huey_log = open(VAR / "huey.log", "w")  # noqa: SIM115
        self.logs = [web_log, huey_log]
        gunicorn = str(Path(PYTHON).with_name("gunicorn"))
        self.web = subprocess.Popen(
            [gunicorn, "-c", "deploy/gunicorn.conf.py", "tongban.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.huey = subprocess.Popen(
            [PYTHON, "manage.py", "run_huey"],
            cwd=ROOT,
            env=env,
            stdout=huey_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> None:
        """Until every worker answers, then warm each one up."""
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.web.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {VAR / 'gunicorn.log'}")
            try:
                if (
                    httpx.get(f"{BASE_URL}/healthz", timeout=2).status_code == 200
                    and len(self.worker_pids()) >= self.workers
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("gunicorn did not answer /healthz within 90 s")
        # Let every worker import and warm up (first request per worker loads templates, jieba…).
        for path in ("/healthz", "/services/search/?q=开饭店", "/services/"):
            for _ in range(self.workers * 3):
                httpx.get(f"{BASE_URL}{path}", headers={"X-Forwarded-Proto": "https"}, timeout=30)
        log(f"server up: gunicorn pid {self.web.pid} workers {self.worker_pids()}, huey pid {self.huey.pid}")

    def wait_queue_drained(self, timeout: float = 600) -> int:
        """Until the Huey queue is empty (the setup's submissions queue one SMS each): a backlog
        would be worked off during the measured phases and count against them. Returns the
        number of tasks that were pending at the start."""
        code = (
            "import django; django.setup(); from huey.contrib.djhuey import HUEY; print(HUEY.pending_count())"
        )

        def pending() -> int:
            out = subprocess.run(
                [PYTHON, "-c", code], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=60
            )
            return int(out.stdout.strip().splitlines()[-1])

        first = left = pending()
        deadline = time.time() + timeout
        while left and time.time() < deadline:
            time.sleep(2)
            left = pending()
        log(f"Huey queue: {first} tasks pending after the setup, {left} left")
        return first

    def worker_pids(self) -> list[int]:
        if self.web is None:
            return []
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def rss_mb(self) -> dict[int, float]:
        out = {}
        for pid in self.worker_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        out[pid] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
        return out

    def stop(self) -> None:
        for proc in (self.web, self.huey):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in (self.web, self.huey):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
        for fh in self.logs:
            fh.close()


def default_workers() -> int:
    """What deploy/gunicorn.conf.py picks without WEB_CONCURRENCY: 2 × cores + 1."""
    return (os.cpu_count() or 1) * 2 + 1


def make(workers: int | None = None) -> Server:
    return Server(env=bench_env(), workers=workers or default_workers())
