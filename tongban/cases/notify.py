"""Telling the applicant: 站内信 in the personal centre and an SMS through the gateway."""

from __future__ import annotations

from django.db import transaction

from tongban.accounts.adapters import sms_gateway
from tongban.cases.models import Application, Message


def notify(application: Application, title: str, body: str) -> None:
    """Call inside the state change's transaction: the message is written with it, the SMS
    leaves only once it has committed."""
    if application.owner_id:
        Message.objects.create(
            recipient_id=application.owner_id, application=application, title=title, body=body
        )
    phone = application.applicant_phone
    if phone:
        text = f"【通办】{title}：{body}"[:300]
        transaction.on_commit(lambda: sms_gateway().send(phone, text, purpose="cases"))
