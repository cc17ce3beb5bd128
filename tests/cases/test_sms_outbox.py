"""The 站内信 row is the SMS outbox: a gateway outage delays the SMS, never loses it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from tests.cases import factories as f
from tongban.accounts import adapters
from tongban.accounts.models import SmsMessage
from tongban.cases import notify, services, tasks
from tongban.cases.models import Message

pytestmark = pytest.mark.django_db


class BrokenGateway:
    name = "broken"

    def send(self, phone: str, text: str, purpose: str = "") -> None:
        raise ConnectionError("短信网关超时")


def _submit(person):
    impl = f.item()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers={"agent": "no", "premises": "own"})
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf(), by=person.user)
    return services.submit(app, actor=person.user)


def test_gateway_down_leaves_a_pending_row_that_the_retry_task_sends(
    monkeypatch, django_capture_on_commit_callbacks
):
    person = f.citizen()
    monkeypatch.setitem(adapters.SMS_GATEWAYS, "local", BrokenGateway)
    with django_capture_on_commit_callbacks(execute=True):
        app = _submit(person)  # the submission itself succeeds
    message = Message.objects.get(application=app)
    assert message.recipient == person.user and message.title == "申请已提交"
    assert message.sms_status == Message.SmsStatus.PENDING
    assert message.sms_attempts == 1 and "短信网关超时" in message.sms_last_error
    assert not SmsMessage.objects.exists()
    with connection.cursor() as cursor:  # the phone in the outbox is encrypted too
        cursor.execute("SELECT sms_phone FROM cases_message WHERE id = %s", [message.pk])
        assert person.phone not in cursor.fetchone()[0]

    # Still down at the next run: backoff grows, nothing lost.
    later = timezone.now() + dt.timedelta(minutes=5)
    assert notify.retry_pending(later) == 0
    message.refresh_from_db()
    assert message.sms_attempts == 2 and message.sms_next_attempt_at > later

    # Not yet due: the task leaves it alone.
    monkeypatch.setitem(adapters.SMS_GATEWAYS, "local", adapters.LocalSmsGateway)
    assert notify.retry_pending(later) == 0
    assert Message.objects.get(pk=message.pk).sms_attempts == 2

    # The gateway is back; the periodic task sends it once.
    monkeypatch.setattr(notify.timezone, "now", lambda: later + dt.timedelta(hours=1))
    assert tasks.retry_case_sms.call_local() == 1
    message.refresh_from_db()
    assert message.sms_status == Message.SmsStatus.SENT and message.sms_sent_at is not None
    sms = SmsMessage.objects.get()
    assert sms.phone == person.phone and "申请已提交" in sms.text
    assert tasks.retry_case_sms.call_local() == 0  # sent rows are never sent again


def test_sms_is_sent_after_commit_and_marked_sent(django_capture_on_commit_callbacks):
    person = f.citizen()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        app = _submit(person)
    message = Message.objects.get(application=app)
    assert message.sms_status == Message.SmsStatus.PENDING  # nothing leaves before the commit
    assert not SmsMessage.objects.exists()
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.sms_status == Message.SmsStatus.SENT and message.sms_attempts == 1


def test_after_max_attempts_marked_failed_and_retried_daily():
    person = f.citizen()
    app = services.start_application(implementation=f.item(), owner=person.user, person=person)
    message = Message.objects.create(
        recipient=person.user,
        application=app,
        title="t",
        body="b",
        sms_phone=person.phone,
        sms_status=Message.SmsStatus.FAILED,
        sms_attempts=notify.MAX_ATTEMPTS - 1,
        sms_next_attempt_at=timezone.now(),
    )
    adapters.SMS_GATEWAYS["broken"] = BrokenGateway
    try:
        from django.test import override_settings

        with override_settings(SMS_GATEWAY="broken"):
            assert notify.retry_pending(timezone.now() + dt.timedelta(seconds=1)) == 0
    finally:
        del adapters.SMS_GATEWAYS["broken"]
    message.refresh_from_db()
    assert message.sms_status == Message.SmsStatus.FAILED  # visible to operators
    assert message.sms_next_attempt_at > timezone.now() + dt.timedelta(hours=23)  # retried daily
    assert notify.retry_pending(timezone.now() + dt.timedelta(days=2)) == 1
    message.refresh_from_db()
    assert message.sms_status == Message.SmsStatus.SENT


def test_queue_down_after_commit_leaves_the_row_for_the_retry_task(
    monkeypatch, django_capture_on_commit_callbacks
):
    def queue_down():
        raise ConnectionError("Redis 不可用")

    person = f.citizen()
    monkeypatch.setattr(notify, "_queue_drain", queue_down)
    with django_capture_on_commit_callbacks(execute=True):
        app = _submit(person)  # committed; the failed hand-over is only logged
    message = Message.objects.get(application=app)
    assert message.sms_status == Message.SmsStatus.PENDING and message.sms_attempts == 0
    assert cache.get(notify.DRAIN_QUEUED_KEY) is None  # the next message tries the queue again
    assert notify.retry_pending(timezone.now() + dt.timedelta(minutes=2)) == 1
    assert Message.objects.get(pk=message.pk).sms_status == Message.SmsStatus.SENT
    assert SmsMessage.objects.count() == 1


def test_the_task_queue_keeps_no_result_of_a_sent_sms(django_capture_on_commit_callbacks):
    # Huey kept every task's return value until read, and nothing reads them: Redis grew by one
    # entry per SMS, forever.
    from huey.contrib.djhuey import HUEY

    HUEY.storage.flush_results()
    with django_capture_on_commit_callbacks(execute=True):
        app = _submit(f.citizen())
    assert Message.objects.get(application=app).sms_status == Message.SmsStatus.SENT
    assert HUEY.result_count() == 0


def test_a_burst_of_messages_is_sent_by_one_drain(monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(notify, "_queue_drain", lambda: queued.append(1))  # a worker that has not run yet
    cache.delete(notify.DRAIN_QUEUED_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        apps = [_submit(f.citizen()) for _ in range(3)]
    assert len(queued) == 1  # one drain for the three commits
    messages = Message.objects.filter(application__in=apps)
    assert {(m.sms_status, m.sms_attempts) for m in messages} == {(Message.SmsStatus.PENDING, 0)}

    assert notify.drain_new_sms.call_local() == 3
    assert set(messages.values_list("sms_status", flat=True)) == {Message.SmsStatus.SENT}
    assert SmsMessage.objects.count() == 3
    assert notify.drain_new_sms.call_local() == 0  # nothing is sent twice

    # The drain has started: the next commit queues the next drain.
    with django_capture_on_commit_callbacks(execute=True):
        _submit(f.citizen())
    assert len(queued) == 2


def test_a_drain_leaves_rows_that_already_failed_to_the_retry_task(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setitem(adapters.SMS_GATEWAYS, "local", BrokenGateway)
    with django_capture_on_commit_callbacks(execute=True):
        app = _submit(f.citizen())
    monkeypatch.setitem(adapters.SMS_GATEWAYS, "local", adapters.LocalSmsGateway)
    assert notify.drain_new_sms.call_local() == 0  # its backoff is retry_pending's business
    assert Message.objects.get(application=app).sms_attempts == 1


def test_without_a_shared_cache_every_commit_queues_a_drain(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    # The demo on SQLite: a flag in the web process's memory could not be cleared by the worker.
    settings.SHARED_CACHE = False
    queued = []
    monkeypatch.setattr(notify, "_queue_drain", lambda: queued.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):
            _submit(f.citizen())
    assert len(queued) == 2
