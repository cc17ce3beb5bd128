"""Structured JSON logs with a request id; personal data masked before anything is written."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# 18-digit resident ID numbers and mainland mobile numbers inside free text.
_RESIDENT_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{4})\d{10}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?:(?<=\+86)|(?<=0086)|(?<!\d))(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    """Mask every resident ID number and mobile number found in ``text``."""
    text = _RESIDENT_ID_RE.sub(lambda m: m.group(1) + "*" * 10 + m.group(2).upper(), text)
    return _MOBILE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        # django.request logs after the middleware has returned: read the id off the request.
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class MaskPersonalDataFilter(logging.Filter):
    """Rewrites the formatted message so no handler ever sees an unmasked ID or phone number."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the log line
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", request_id_var.get()),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)
