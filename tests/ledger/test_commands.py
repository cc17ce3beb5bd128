"""verify_ledger reports each tampered case and exits 1; backfill_ledger chains legacy events."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.ledger.factories import accepted_case, submitted_case
from tongban.cases.models import Application, CaseEvent
from tongban.ledger import services
from tongban.ledger.models import ChainLink, MerkleCommit

pytestmark = pytest.mark.django_db


def _verify() -> tuple[str, int]:
    out = io.StringIO()
    try:
        call_command("verify_ledger", stdout=out, chunk_size=2)
    except CommandError as exc:
        return out.getvalue() + str(exc), exc.returncode
    return out.getvalue(), 0


def test_clean_store_passes():
    for _ in range(3):
        accepted_case()
    services.commit_now()
    submitted_case()  # a chain that grew after the commit is fine
    text, code = _verify()
    assert code == 0
    events = CaseEvent.objects.count()
    assert "共校验办件 4 件" in text and f"过程记录 {events} 条" in text and "默克尔提交 1 次" in text
    assert "校验通过，未发现篡改" in text


def test_tampering_is_reported_per_case_with_exit_code_1():
    good, *_ = accepted_case()
    edited, *_ = accepted_case()
    removed, *_ = accepted_case()
    services.commit_now()
    submit = edited.events.get(action="submit")
    CaseEvent.objects.filter(pk=submit.pk).update(reason="被改过")
    CaseEvent.objects.filter(application=removed, action="accept").delete()
    text, code = _verify()
    assert code == 1
    assert f"办件 {edited.case_number}：" in text and f"第2环 记录#{submit.pk}（提交申请）" in text
    assert f"办件 {removed.case_number}：" in text and "过程记录已被删除" in text
    assert good.case_number not in text
    assert "发现 2 处问题，涉及办件 2 件" in text


def test_forged_commit_and_deleted_case_are_reported():
    accepted_case()
    original = services.commit_now().tree_root
    second, *_ = accepted_case()
    services.commit_now()
    MerkleCommit.objects.filter(number=1).update(tree_root="ee" * 32)
    text, code = _verify()
    assert code == 1 and "第1次提交" in text and "提交根与其内容不符" in text
    # A case deleted behind the application's back leaves its chain: reported.
    MerkleCommit.objects.filter(number=1).update(tree_root=original)
    assert _verify()[1] == 0
    pk = second.pk
    Application.objects.filter(pk=pk).delete()
    text, code = _verify()
    assert code == 1 and f"SQ{pk:08d}" in text and "办件已被删除" in text


def test_backfill_command_chains_and_commits_idempotently():
    app, *_ = accepted_case()
    ChainLink.objects.all().delete()
    text, code = _verify()
    assert code == 1 and "不在存证链中" in text
    out = io.StringIO()
    call_command("backfill_ledger", stdout=out)
    count = app.events.count()
    assert f"补建存证链环 {count} 条" in out.getvalue() and "第1次默克尔提交" in out.getvalue()
    out = io.StringIO()
    call_command("backfill_ledger", stdout=out)
    assert "补建存证链环 0 条" in out.getvalue()
    assert _verify()[1] == 0
    assert services.verify_case(app).ok


def test_backfill_leaves_an_old_unchained_event_for_verification():
    app, *_ = accepted_case()
    CaseEvent.objects.bulk_create([CaseEvent(application=app, action="accept", to_status="accepted")])
    forged = CaseEvent.objects.filter(application=app).order_by("id").last()
    assert services.backfill() == 1  # newer than the head: appended
    assert ChainLink.objects.get(event=forged).seq == app.events.count()
    ChainLink.objects.filter(application=app, seq=2).delete()
    assert services.backfill() == 0  # the submit event is older than the head: not absorbed
    codes = [p.code for p in services.verify_case(app).problems]
    assert "link-missing" in codes and "not-chained" in codes


def test_demo_loader_chains_and_commits():
    from tongban.ledger import demo

    app, *_ = accepted_case()
    ChainLink.objects.all().delete()
    out = io.StringIO()
    demo.load(out)
    assert f"补建 {app.events.count()} 条链环" in out.getvalue()
    assert not CaseEvent.objects.filter(chain_link__isnull=True).exists()
    assert MerkleCommit.objects.count() == 1


def test_store_check_queries_do_not_grow_with_the_number_of_cases():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert services.verify_store(chunk_size=500).ok
        return len(captured)

    accepted_case()
    services.commit_now()
    few = queries()
    for _ in range(4):
        accepted_case()
    services.commit_now()
    # One more commit to read; the cases are checked in one batch of three queries.
    assert queries() == few + 1


def test_periodic_task_commits():
    from tongban.ledger.tasks import COMMIT_SCHEDULE, commit_ledger

    accepted_case()
    assert commit_ledger.call_local() == 1
    assert commit_ledger.call_local() is None
    import datetime as dt

    assert COMMIT_SCHEDULE(dt.datetime(2026, 11, 23, 13, 20)) and not COMMIT_SCHEDULE(
        dt.datetime(2026, 11, 23, 13, 21)
    )
