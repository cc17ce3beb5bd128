"""Development / embedded default: `make run` on a laptop with SQLite and nothing else."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = os.environ.get("DEBUG", "1") not in {"0", "false", "False"}
# A per-checkout development secret, created once and kept under var/ (never committed).
_secret_file = VAR_DIR / "dev-secret-key"
if not os.environ.get("SECRET_KEY"):
    if not _secret_file.exists():
        import secrets

        _secret_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = _secret_file.read_text().strip()
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
