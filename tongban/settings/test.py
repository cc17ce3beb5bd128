"""Test settings: same as development, fast hashing, jobs run immediately."""

from .dev import *  # noqa: F403
from .dev import HUEY

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True, "huey_class": "huey.MemoryHuey"}
HUEY.pop("filename", None)
HUEY.pop("url", None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Test-only app with a record that has region, department and assignee (data-scope matrix).
INSTALLED_APPS = [*INSTALLED_APPS, "tests.accounts.scopeapp"]  # noqa: F405
# Live-server tests: no persistent connections in server threads (clean test-database teardown).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# One process: the local-memory cache is as shared as Redis, so the cached paths are the ones tested.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SHARED_CACHE = IDENTITY_CACHE = True
