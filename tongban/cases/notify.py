"""Telling the applicant: 站内信 in the personal centre and an SMS through the gateway.

The ``Message`` row is the outbox: written in the state change's transaction with the SMS
``pending``; once that transaction has committed, ``send_sms_later`` has the Huey worker send it
(the gateway's latency is not the applicant's or the clerk's wait): one ``drain_new_sms`` task
sends every new row of a burst, half a second after the first, so the morning rush at the halls
queues a few tasks rather than one per message. ``retry_pending``
(Huey, every minute) retries due rows, including one whose hand-over failed. A failed attempt
keeps the row ``pending`` with exponential backoff (1, 2, 4 … 60 minutes); after
``MAX_ATTEMPTS`` it becomes ``failed`` (visible in the admin) and is still retried once a day.
A gateway outage therefore delays the SMS but never loses it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_task

from tongban.accounts.adapters import sms_gateway
from tongban.cases.models import Application, Message

logger = logging.getLogger(__name__)

#: After this many failed attempts the SMS is marked ``failed`` and retried daily only.
MAX_ATTEMPTS = 8
FAILED_RETRY_EVERY = dt.timedelta(days=1)
#: The after-commit send normally happens at once; the retry task leaves fresh rows alone this long.
FIRST_RETRY_AFTER = dt.timedelta(minutes=1)


def backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 … minutes after the n-th failure, capped at one hour."""
    return dt.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def notify(application: Application, title: str, body: str) -> Message | None:
    """Call inside the state change's transaction: the message is written with it, the SMS
    leaves only once it has committed."""
    phone = application.applicant_phone
    if not application.owner_id and not phone:
        return None
    message = Message.objects.create(
        recipient_id=application.owner_id,
        application=application,
        title=title,
        body=body,
        sms_phone=phone or "",
        sms_status=Message.SmsStatus.PENDING if phone else Message.SmsStatus.NONE,
        sms_next_attempt_at=timezone.now() + FIRST_RETRY_AFTER if phone else None,
    )
    if phone:
        send_sms_later(message.pk)
    return message


#: A drain starts this long after the first new row of a burst (Huey's scheduler looks every
#: second, so an SMS leaves 0.5–1.5 s after the commit).
DRAIN_DELAY_SECONDS = 0.5
DRAIN_BATCH = 500
#: Set while a drain is queued and has not yet looked for rows: a row committed meanwhile is
#: found by that drain and queues nothing. It lapses if the drain never runs (worker down): the
#: next row queues another, and retry_pending sends what waited.
DRAIN_QUEUED_KEY = "cases:sms-drain-queued"
DRAIN_QUEUED_SECONDS = 30


def send_sms_later(message_id: int) -> None:
    """After the caller's transaction commits, have the SMS of outbox row ``message_id`` sent."""
    transaction.on_commit(functools.partial(_enqueue_sms, message_id))


def _enqueue_sms(message_id: int) -> None:
    try:
        if not settings.SHARED_CACHE:  # a per-process flag: the worker could not clear the web's
            _queue_drain()
        elif cache.add(DRAIN_QUEUED_KEY, 1, DRAIN_QUEUED_SECONDS):
            try:
                _queue_drain()
            except Exception:
                cache.delete(DRAIN_QUEUED_KEY)
                raise
    except Exception as exc:  # the queue is down: the row stays pending, retry_pending sends it
        logger.warning("case SMS %s not queued: %s", message_id, exc)


def _queue_drain() -> None:
    if HUEY.immediate:  # tests and the demo without a worker: a delayed task would never run
        drain_new_sms()
    else:
        drain_new_sms.schedule(delay=DRAIN_DELAY_SECONDS)


@db_task()
def drain_new_sms() -> int:
    """Huey task: one attempt for every outbox row not yet tried (``send_sms``, a transaction
    each: a crash half way resends nothing already marked sent)."""
    cache.delete(DRAIN_QUEUED_KEY)  # before looking: a row committed from now on queues the next drain
    sent = 0
    for _ in range(20):  # bounded: 10 000 rows, then the next drain or retry_pending
        batch = list(
            Message.objects.filter(sms_status=Message.SmsStatus.PENDING, sms_attempts=0)
            .order_by("pk")
            .values_list("pk", flat=True)[:DRAIN_BATCH]
        )
        sent += sum(send_sms(pk) for pk in batch)
        if len(batch) < DRAIN_BATCH:
            break
    return sent


def send_sms(message_id: int, now: dt.datetime | None = None) -> bool:
    """One attempt for one outbox row; True when the gateway took it. Never raises: the state
    change that caused it has already committed."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sms_status__in=[Message.SmsStatus.PENDING, Message.SmsStatus.FAILED])
            .first()
        )
        if message is None:
            return False  # already sent, or another worker is sending it right now
        now = now or timezone.now()
        message.sms_attempts += 1
        try:
            sms_gateway().send(
                message.sms_phone, f"【通办】{message.title}：{message.body}"[:300], purpose="cases"
            )
        except Exception as exc:  # any gateway failure: keep the row and retry later
            logger.warning("case SMS %s failed (attempt %s): %s", message.pk, message.sms_attempts, exc)
            gave_up = message.sms_attempts >= MAX_ATTEMPTS
            message.sms_status = Message.SmsStatus.FAILED if gave_up else Message.SmsStatus.PENDING
            message.sms_last_error = f"{type(exc).__name__}: {exc}"[:300]
            message.sms_next_attempt_at = now + (
                FAILED_RETRY_EVERY if gave_up else backoff(message.sms_attempts)
            )
            ok = False
        else:
            message.sms_status = Message.SmsStatus.SENT
            message.sms_sent_at = now
            message.sms_next_attempt_at = None
            ok = True
        message.save(
            update_fields=[
                "sms_status",
                "sms_attempts",
                "sms_last_error",
                "sms_next_attempt_at",
                "sms_sent_at",
            ]
        )
    return ok


def retry_pending(now: dt.datetime | None = None) -> int:
    """Periodic task body: send every pending/failed SMS whose retry time has come."""
    now = now or timezone.now()
    due = Message.objects.filter(
        Q(sms_status__in=[Message.SmsStatus.PENDING, Message.SmsStatus.FAILED]),
        sms_next_attempt_at__lte=now,
    ).values_list("pk", flat=True)
    return sum(send_sms(pk, now) for pk in list(due[:500]))
