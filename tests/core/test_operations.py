"""Operations: health checks, request ids, masked structured logs, production settings."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tongban.core import services
from tongban.core.logging import JsonFormatter, MaskPersonalDataFilter, RequestIdFilter, mask_text

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_answers_without_touching_anything(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_a_missing_worker_in_chinese(client):
    from huey.contrib.djhuey import HUEY

    HUEY.delete(services.HEARTBEAT_KEY)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["worker"] == "后台任务进程无心跳"


@pytest.mark.django_db
def test_readyz_is_ready_once_the_worker_beats(client):
    from tongban.core.tasks import worker_heartbeat

    worker_heartbeat.call_local()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="abcdef12-3456")
    assert kept["X-Request-ID"] == "abcdef12-3456"
    # A malformed id from outside is replaced, not echoed back (log injection).
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nforged")
    assert replaced["X-Request-ID"] != "bad id\nforged"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "申请人身份证 34150219900101123X 手机 13805641234",
            "申请人身份证 3415**********123X 手机 138****1234",
        ),
        ("phone=+8613805641234", "phone=+86138****1234"),
        ("订单号 202611230000000001234567 不是证件号", "订单号 202611230000000001234567 不是证件号"),
    ],
)
def test_personal_data_is_masked_in_text(text, expected):
    assert mask_text(text) == expected


def test_log_lines_are_json_with_masked_personal_data():
    record = logging.LogRecord(
        "tongban.test", logging.INFO, __file__, 1, "查询 %s 的办件", ("341502199001011234",), None
    )
    RequestIdFilter().filter(record)
    MaskPersonalDataFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "查询 3415**********1234 的办件"
    assert "341502199001011234" not in json.dumps(line)
    assert set(line) >= {"time", "level", "logger", "request_id", "message"}


def _import_production_settings(env: dict) -> subprocess.CompletedProcess:
    code = (
        "import django.conf, json; from tongban.settings import production as p; "
        "print(json.dumps({k: getattr(p, k) for k in ['DEBUG','SESSION_COOKIE_SECURE','CSRF_COOKIE_SECURE',"
        "'SECURE_HSTS_SECONDS','SECURE_SSL_REDIRECT','CONTENT_SECURITY_POLICY']}))"
    )
    clean_env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret():
    result = _import_production_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_are_safe_by_default():
    result = _import_production_settings({"SECRET_KEY": "x" * 50, "DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["DEBUG"] is False
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SECURE_SSL_REDIRECT"]
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert "default-src 'self'" in values["CONTENT_SECURITY_POLICY"]


def test_pages_send_a_content_security_policy(client):
    response = client.get("/healthz")
    assert "default-src 'self'" in response["Content-Security-Policy"]


def test_access_log_lines_pass_the_masking_filter():
    # runserver's access log carries query strings; it must use our masking handler, not Django's.
    logger = logging.getLogger("django.server")
    filters = [f for handler in logger.handlers for f in handler.filters]
    assert any(isinstance(f, MaskPersonalDataFilter) for f in filters)
    assert logger.propagate is False


def test_task_worker_log_lines_are_written_once_and_masked():
    # run_huey gives the "huey" logger a plain-text handler of its own when it has none: every
    # task's lines then came out twice, once without masking.
    logger = logging.getLogger("huey")
    assert logger.handlers, "run_huey would add its own handler"

    def masked_json(handler: logging.Handler) -> bool:
        masked = any(isinstance(f, MaskPersonalDataFilter) for f in handler.filters)
        return masked and isinstance(handler.formatter, JsonFormatter)

    assert any(masked_json(h) for h in logger.handlers)
    assert logger.propagate is False
