"""Request id, cache generation numbers read once per request, content-security policy, one
working-day calendar per request and the 适老化 display preference."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from tongban.core.generations import once_per_request
from tongban.core.logging import request_id_var
from tongban.core.workdays import shared_calendar

_INCOMING_ID_RE = re.compile(r"^[A-Za-z0-9-]{8,36}$")
ELDER_MODE_COOKIE = "tb_elder"


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed X-Request-ID from the proxy) for the logs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _INCOMING_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class GenerationsOncePerRequestMiddleware:
    """Each cache generation number read at most once per request (``tongban.core.generations``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with once_per_request():
            return self.get_response(request)


class SharedCalendarMiddleware:
    """One working-day calendar for the whole request (read lazily, at most once): a view that
    shows deadlines and then runs a state change (an API acceptance checks for deemed acceptance,
    then accepts) read the calendar tables twice. An edit of the calendar during the request
    empties it (``tongban.core.workdays``), so nothing stale is used."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with shared_calendar():
            return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", "")
        # The API docs page loads Swagger UI from ninja's own static files.
        if policy and "Content-Security-Policy" not in response and not request.path.startswith("/api/docs"):
            response["Content-Security-Policy"] = policy
        return response


class DisplayPreferenceMiddleware:
    """Sets ``request.elder_mode``: the signed-in user's preference, else this browser's cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        cookie = request.COOKIES.get(ELDER_MODE_COOKIE)
        if cookie in {"0", "1"}:
            # This browser's explicit choice wins: someone who switched it on before logging in keeps it.
            request.elder_mode = cookie == "1"
        else:
            request.elder_mode = bool(user is not None and user.is_authenticated and user.elder_mode)
        return self.get_response(request)
