"""Writing the audit trail. Call inside the same transaction as the change it describes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.http import HttpRequest

from tongban.core.logging import mask_text, request_id_var
from tongban.core.models import AuditEvent


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_entry(
    action: str,
    summary: str,
    *,
    actor: Any = None,
    on_behalf_of: Any = None,
    obj: models.Model | None = None,
    data: dict | None = None,
    request: HttpRequest | None = None,
    on_behalf_of_id: int | None = None,
) -> AuditEvent:
    """One audit event, not yet saved (``record_event`` saves it; a case's state change saves its
    entries together). ``summary`` is masked: it is shown to auditors, not the data owner.

    ``on_behalf_of_id`` may replace ``on_behalf_of`` when only the key is at hand (saves
    fetching the user row just to write its key)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if on_behalf_of is not None:
        on_behalf: dict[str, Any] = {"on_behalf_of": on_behalf_of}
    else:
        on_behalf = {"on_behalf_of_id": on_behalf_of_id}
    return AuditEvent(
        action=action,
        summary=mask_text(summary)[:300],
        actor=actor,
        **on_behalf,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        data=data or {},
        ip_address=client_ip(request),
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
    )


def record_event(*args: Any, **kwargs: Any) -> AuditEvent:
    """Append one audit event now (arguments as ``audit_entry``)."""
    entry = audit_entry(*args, **kwargs)
    entry.save()
    return entry
