"""A sampling profile of the running web workers (py-spy, all gunicorn workers at once), reduced
to where the CPU goes (categories) and the hottest frames of our own code."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

from bench.common import PYTHON, VAR

#: (category, substrings of a frame — the first matching category, scanning from the leaf up, wins).
CATEGORIES = [
    ("password hashing (argon2)", ("argon2",)),
    (
        "field encryption / blind index (cryptography, hmac)",
        ("cryptography", "fernet", "hmac.py", "crypto.py"),
    ),
    ("PostgreSQL round-trips (psycopg)", ("psycopg",)),
    ("catalogue search (jieba tokeniser)", ("jieba",)),
    ("template rendering", ("django/template", "templatetags")),
    ("ORM query building / model instances", ("django/db/models",)),
    ("JSON schema / forms", ("jsonschema", "django/forms")),
    ("django-ninja (API parsing, pydantic)", ("ninja", "pydantic")),
    ("file upload parsing / storage", ("multipartparser", "uploadhandler", "files/storage", "filetype")),
    ("Redis (cache, huey)", ("redis",)),
    ("middleware / request handling", ("django/core/handlers", "middleware", "django/http", "django/urls")),
    ("gunicorn / WSGI", ("gunicorn",)),
]


def py_spy() -> str | None:
    local = Path(PYTHON).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start(master_pid: int, seconds: int) -> tuple[subprocess.Popen, Path] | None:
    tool = py_spy()
    if tool is None:
        return None
    out = VAR / "profile.raw.txt"
    proc = subprocess.Popen(
        [
            tool,
            "record",
            "-p",
            str(master_pid),
            "--subprocesses",
            "-d",
            str(seconds),
            "-r",
            "97",
            "-f",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def summarise(raw: Path) -> dict:
    if not raw.exists():
        return {}
    categories: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        total += n
        for frame in reversed(frames):
            category = next((c for c, keys in CATEGORIES if any(k in frame for k in keys)), None)
            if category:
                categories[category] += n
                break
        else:
            categories["other Python"] += n
        seen = set()
        for frame in frames:
            if "tongban/" in frame and frame not in seen:
                seen.add(frame)
                inclusive[frame] += n
    if not total:
        return {}
    return {
        "tool": "py-spy",
        "samples": total,
        "categories": [(c, round(100 * n / total, 1)) for c, n in categories.most_common()],
        "top_frames": [(f, round(100 * n / total, 1)) for f, n in inclusive.most_common(15)],
    }
