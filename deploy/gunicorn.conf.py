"""gunicorn for production: `gunicorn -c deploy/gunicorn.conf.py tongban.wsgi`.

Environment: DJANGO_SETTINGS_MODULE=tongban.settings.production, SECRET_KEY, DATABASE_URL, REDIS_URL,
ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS, FIELD_ENCRYPTION_KEY, OIDC_RSA_PRIVATE_KEY.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("WEB_THREADS", "1"))
worker_class = "sync" if threads == 1 else "gthread"
timeout = 30
graceful_timeout = 20
keepalive = 5
# Recycle a worker after this many requests (a bound on any slow leak); 0 never recycles.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = "-"
# No query strings in access logs: they can carry personal data.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss rid=%({x-request-id}o)s'
