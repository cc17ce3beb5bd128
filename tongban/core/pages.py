"""Helpers shared by the apps' server-rendered pages."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect


def errors_to_messages(view=None, *, back_to_referer: bool = True):
    """A rule broken in a service (ValidationError) becomes an error message on the page it came
    from — the referring page, or the view's own URL with ``back_to_referer=False``."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
                target = request.headers.get("Referer") if back_to_referer else None
                return redirect(target or request.path)

        return wrapper

    return decorate(view) if view is not None else decorate
