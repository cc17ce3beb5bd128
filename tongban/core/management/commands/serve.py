"""Development server and background worker together (`make run`)."""

import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "同时启动网站（runserver）与后台任务进程（Huey）"

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="监听地址，默认 127.0.0.1:8000")

    def handle(self, *args, addr: str, **options):
        worker = None
        # The autoreloader re-runs this command in a child with RUN_MAIN=true: start one worker only.
        if os.environ.get("RUN_MAIN") != "true":
            worker = subprocess.Popen([sys.executable, "manage.py", "run_huey", "--quiet"])
            self.stdout.write(
                f"后台任务进程已启动（pid {worker.pid}）。网站地址：http://{addr}/  按 Ctrl+C 停止。"
            )
        try:
            call_command("runserver", addr)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)
