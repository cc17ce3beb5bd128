"""办件受理 rules: the issue's "Done when" list, at the service layer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cases import factories as f
from tests.catalog.factories import department, liuan
from tongban.accounts.models import SmsMessage
from tongban.cases import services
from tongban.cases.models import Application, CaseEvent, Channel, Message, Status
from tongban.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _on(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr(services, "_today", lambda: day)


def _submitted(impl=None, person=None, answers=None):
    impl = impl or f.item()
    person = person or f.citizen()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers=answers or {"agent": "no", "premises": "own"})
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf(), by=person.user)
    return services.submit(app, actor=person.user)


def test_full_online_path_with_one_correction_notice(monkeypatch, django_capture_on_commit_callbacks):
    impl = f.item()
    person = f.citizen()
    clerk = f.clerk(impl.organisation)
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    assert app.version_id == impl.published_version_id and app.applicant_name == "张小三"
    services.save_draft(app, answers={"agent": "yes", "premises": "rented"})
    with pytest.raises(ValidationError) as missing:
        services.submit(app)
    assert missing.value.code == "application-incomplete" and "授权委托书" in missing.value.messages[0]
    for name in ("食品经营许可申请书", "授权委托书", "房屋租赁合同"):
        services.upload_material(app, f.material(impl, name).pk, f.pdf(), by=person.user)
    with django_capture_on_commit_callbacks(execute=True):
        app = services.submit(app, actor=person.user)
    assert app.status == Status.SUBMITTED and app.received_date is not None
    assert SmsMessage.objects.exists()

    notice = services.request_corrections(
        app,
        clerk=clerk,
        items=[
            {"material_id": f.material(impl, "授权委托书").pk, "problem": "缺少委托人签字"},
            {"material_id": f.material(impl, "房屋租赁合同").pk, "problem": "租赁合同已过期"},
        ],
    )
    assert len(notice.items) == 2
    app.refresh_from_db()
    assert app.status == Status.CORRECTION_REQUESTED
    message = Message.objects.filter(recipient=person.user).first()
    assert "缺少委托人签字" in message.body and "租赁合同已过期" in message.body

    with pytest.raises(ValidationError) as unchanged:
        services.resubmit(app, actor=person.user)
    assert unchanged.value.code == "nothing-corrected"
    services.upload_material(app, f.material(impl, "授权委托书").pk, f.pdf("签字版.pdf"), by=person.user)
    app = services.resubmit(app, actor=person.user)
    assert app.status == Status.SUBMITTED and app.round == 2
    assert notice.__class__.objects.get(pk=notice.pk).answered_at is not None

    app = services.accept(app, clerk=clerk)
    assert app.status == Status.IN_PROGRESS
    assert app.case_number == f"{impl.code}{app.received_date:%Y%m%d}000001"
    assert app.deadline is not None and app.legal_limit_days == 20
    actions = list(app.events.values_list("action", flat=True))
    assert actions[:5] == ["create", "submit", "request_corrections", "resubmit", "accept"]
    assert actions[5:] == ["process_started", "task_opened"]  # the back office starts at once
    assert AuditEvent.objects.filter(action="cases.accept", object_id=str(app.pk)).exists()
    assert services.public_lookup(app.case_number, person.id_number).pk == app.pk
    assert services.public_lookup(app.case_number, f.resident_id(999)) is None


def test_second_notice_for_same_submission_is_refused():
    app = _submitted()
    clerk = f.clerk(app.department)
    services.request_corrections(app, clerk=clerk, items=[{"field": "form", "problem": "地址不完整"}])
    # The notice moved the case on: a second one for the same round is out of order.
    with pytest.raises(ValidationError) as error:
        services.request_corrections(app, clerk=clerk, items=[{"field": "x", "problem": "又一个问题"}])
    assert error.value.code in {"invalid-transition", "correction-notice-already-issued"}
    assert app.notices.count() == 1


def test_deemed_accepted_after_five_working_days_across_national_day(monkeypatch, calendar_2026):
    # Received Tue 2026-09-29; working days after: 09-30, 10-08, 10-09, 10-10 (调休 Saturday), 10-12.
    _on(monkeypatch, dt.date(2026, 9, 29))
    app = _submitted()
    clerk = f.clerk(app.department)
    assert services.correction_deadline(app) == dt.date(2026, 10, 12)
    _on(monkeypatch, dt.date(2026, 10, 12))
    assert services.apply_deemed_acceptance(app).status == Status.SUBMITTED
    _on(monkeypatch, dt.date(2026, 10, 13))
    with pytest.raises(ValidationError) as error:
        services.request_corrections(app, clerk=clerk, items=[{"field": "a", "problem": "太晚了"}])
    assert error.value.code == "invalid-transition"
    app.refresh_from_db()
    assert app.status == Status.IN_PROGRESS and app.deemed_accepted
    assert app.case_number.endswith("20260929000001")  # accepted on the day of receipt
    assert app.events.filter(action="deemed_accept", actor__isnull=True).exists()
    assert not app.notices.exists()


def test_periodic_task_applies_article_32(monkeypatch, calendar_2026):
    _on(monkeypatch, dt.date(2026, 9, 29))
    app = _submitted()
    assert services.deem_overdue(dt.date(2026, 10, 12)) == 0
    assert services.deem_overdue(dt.date(2026, 10, 13)) == 1
    app.refresh_from_db()
    assert app.deemed_accepted and app.received_date == dt.date(2026, 9, 29)


def test_duplicate_submission_creates_one_application():
    impl = f.item()
    person = f.citizen()
    first = services.start_application(
        implementation=impl, owner=person.user, person=person, idempotency_key="k-1"
    )
    again = services.start_application(
        implementation=impl, owner=person.user, person=person, idempotency_key="k-1"
    )
    assert first.pk == again.pk and Application.objects.count() == 1
    services.save_draft(first, answers={"agent": "no", "premises": "own"})
    services.upload_material(first, f.material(impl, "食品经营许可申请书").pk, f.pdf())
    services.submit(first)
    services.submit(first)  # double click
    assert first.events.filter(action="submit").count() == 1


def test_disguised_file_type_is_refused():
    app = services.start_application(implementation=f.item(), owner=(p := f.citizen()).user, person=p)
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.upload_material(app, app.version.materials.first().pk, fake)
    assert error.value.code == "file-type" and "修改扩展名无效" in error.value.messages[0]
    assert not app.files.exists()


def test_ofd_and_png_accepted_by_content():
    app = services.start_application(implementation=f.item(), owner=(p := f.citizen()).user, person=p)
    record = services.upload_material(app, app.version.materials.first().pk, f.ofd())
    assert record.content_type == "application/ofd" and len(record.sha256) == 64
    fake_zip = SimpleUploadedFile("x.ofd", b"PK\x03\x04not really a zip")
    with pytest.raises(ValidationError):
        services.upload_material(app, app.version.materials.first().pk, fake_zip)


def test_oversized_file_is_refused():
    app = services.start_application(implementation=f.item(), owner=(p := f.citizen()).user, person=p)
    big = SimpleUploadedFile("big.pdf", f.PDF + b"0" * (20 * 1024 * 1024), content_type="application/pdf")
    with pytest.raises(ValidationError) as error:
        services.upload_material(app, app.version.materials.first().pk, big)
    assert error.value.code == "file-too-large" and "20 MB" in error.value.messages[0]


def test_accepting_a_refused_case_is_out_of_order():
    app = _submitted()
    clerk = f.clerk(app.department)
    app = services.refuse(app, clerk=clerk, reason="不属于本机关职权范围")
    assert app.refusal_notice.read().startswith(b"%PDF")
    with pytest.raises(ValidationError) as error:
        services.accept(app, clerk=clerk)
    assert error.value.code == "invalid-transition" and "不予受理" in error.value.messages[0]
    app.refresh_from_db()
    assert app.status == Status.REFUSED and app.case_number is None


def test_clerk_outside_scope_cannot_accept():
    regions = liuan()
    app = _submitted(f.item(department(regions["jinan"])))
    other = f.clerk(department(regions["yuan"]))
    with pytest.raises(PermissionDenied):
        services.accept(app, clerk=other)
    app.refresh_from_db()
    assert app.status == Status.SUBMITTED
    assert app.pk not in services.staff_queue(other).values_list("pk", flat=True)
    assert app.pk in services.staff_queue(f.clerk(app.department)).values_list("pk", flat=True)


def test_accept_with_gaps_only_for_non_key_materials():
    impl = f.item()
    person = f.citizen()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    services.save_draft(app, answers={"agent": "yes", "premises": "own"})
    for name in ("食品经营许可申请书", "授权委托书"):
        services.upload_material(app, f.material(impl, name).pk, f.pdf())
    app = services.submit(app)  # 受托人身份证 is non-key: may be missing
    clerk = f.clerk(impl.organisation)
    due = services._today() + dt.timedelta(days=10)
    with pytest.raises(ValidationError) as error:
        services.accept_with_gaps(app, clerk=clerk, missing=[f.material(impl, "授权委托书").pk], due_date=due)
    assert error.value.code == "key-material-missing"
    app = services.accept_with_gaps(
        app, clerk=clerk, missing=[f.material(impl, "受托人身份证").pk], due_date=due
    )
    assert app.status == Status.IN_PROGRESS and app.gaps_due_date == due and app.case_number
    assert app.events.filter(action="accept_with_gaps", to_status=Status.ACCEPTED_WITH_GAPS).exists()


def test_on_the_spot_item_accepted_and_completed_at_once():
    from tests.catalog.factories import COMPLETE_GUIDE

    impl = f.item(
        guide={**COMPLETE_GUIDE, "handling_kind": "spot", "legal_limit_days": 0, "promised_limit_days": 0},
        name="个体工商户名称查询",
    )
    app = _submitted(impl)
    app = services.complete_on_the_spot(app, clerk=f.clerk(impl.organisation))
    assert app.status == Status.COMPLETED and app.case_number and app.completed_at


def test_window_registration_in_another_county_for_walk_in():
    regions = liuan()
    impl = f.item(department(regions["yuan"]))
    window_clerk = f.clerk(department(regions["jinan"], "数据资源", "数据资源管理局"))
    counter = f.window(regions["jinan"])
    app = services.start_application(
        implementation=impl,
        channel=Channel.WINDOW,
        registered_by=window_clerk,
        window=counter.pk,
        walk_in={"name": "赵六", "id_number": f.resident_id(77), "phone": "13812345678"},
    )
    assert app.owner is None and app.channel == Channel.WINDOW and app.registered_by == window_clerk
    assert app.window == counter
    services.save_draft(app, answers={"agent": "no", "premises": "own"})
    services.upload_material(
        app, f.material(impl, "食品经营许可申请书").pk, f.pdf("扫描件.pdf"), by=window_clerk
    )
    app = services.submit(app, actor=window_clerk)
    app = services.accept(app, clerk=f.clerk(impl.organisation))
    assert services.public_lookup(app.case_number, f.resident_id(77)).pk == app.pk
    assert CaseEvent.objects.filter(application=app, action="submit", actor=window_clerk).exists()


def test_form_prefilled_from_profile_and_validated():
    from tests.catalog.factories import COMPLETE_GUIDE
    from tongban.catalog.data.reference import FIELD_SETS
    from tongban.catalog.models import FieldSet

    name, schema = FIELD_SETS["applicant"]
    FieldSet.objects.update_or_create(key="applicant", defaults={"name": name, "schema": schema})
    impl = f.item(guide={**COMPLETE_GUIDE, "form_field_sets": "applicant"}, name="食品经营许可（表单）")
    person = f.citizen()
    app = services.start_application(implementation=impl, owner=person.user, person=person)
    assert app.form_data["applicant_name"] == "张小三"
    assert app.form_data["applicant_id_number"] == person.id_number
    services.save_draft(
        app, answers={"agent": "no", "premises": "own"}, form_data={"applicant_mobile": "123"}
    )
    services.upload_material(app, f.material(impl, "食品经营许可申请书").pk, f.pdf())
    with pytest.raises(ValidationError) as error:
        services.submit(app)
    assert "手机号码格式不正确" in error.value.messages[0]


def test_deemed_acceptance_tells_the_applicant(monkeypatch):
    _on(monkeypatch, dt.date(2026, 11, 2))
    app = _submitted()
    services.apply_deemed_acceptance(app, today=dt.date(2026, 11, 20))
    assert Message.objects.filter(recipient=app.owner, title="申请已依法受理").exists()


def test_provisional_deadline_recomputed_when_the_year_is_loaded(monkeypatch, calendar_2026):
    from tongban.core.models import CalendarDay, CalendarYear
    from tongban.core.workdays import calendar_year_loaded

    CalendarDay.objects.filter(date__year=2027).delete()
    CalendarYear.objects.filter(year=2027).delete()
    _on(monkeypatch, dt.date(2026, 12, 15))  # 20 working days run into 2027 (no schedule loaded)
    app = _submitted()
    app = services.accept(app, clerk=f.clerk(app.department))
    assert app.deadline_provisional
    CalendarYear.objects.create(year=2027)
    CalendarDay.objects.create(date=dt.date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY)
    before = app.deadline
    calendar_year_loaded.send(sender=CalendarYear, year=2027, replaced=False)
    app.refresh_from_db()
    assert not app.deadline_provisional and app.deadline == before + dt.timedelta(days=1)


def test_window_must_be_in_a_hall_of_the_clerks_region():
    regions = liuan()
    impl = f.item(department(regions["yuan"]))
    clerk = f.clerk(department(regions["jinan"], "数据资源", "数据资源管理局"))
    elsewhere = f.window(regions["yuan"])
    walk_in = {"name": "赵六", "id_number": f.resident_id(78)}
    register = dict(implementation=impl, channel=Channel.WINDOW, registered_by=clerk, walk_in=walk_in)
    with pytest.raises(ValidationError) as error:
        services.start_application(**register)  # no window in 金安区 at all
    assert error.value.code == "window-missing"
    with pytest.raises(ValidationError) as error:
        services.start_application(**register, window=elsewhere.pk)
    assert error.value.code == "window-not-in-region" and "不属于您所在区划" in error.value.messages[0]
    own = f.window(regions["jinan"])
    assert services.start_application(**register).window == own  # the one window of the region
    assert not Application.objects.filter(window=elsewhere).exists()


def test_online_application_needs_online_depth_but_a_window_can_register_it():
    from tests.catalog.factories import COMPLETE_GUIDE

    impl = f.item(guide={**COMPLETE_GUIDE, "online_depth": 2}, name="仅可预约的事项")
    person = f.citizen()
    with pytest.raises(ValidationError) as error:
        services.start_application(implementation=impl, owner=person.user, person=person)
    assert error.value.code == "not-online" and "到窗口办理" in error.value.messages[0]
    clerk = f.clerk(department(liuan()["city"], "数据资源", "数据资源管理局"))
    f.window(liuan()["city"])
    app = services.start_application(
        implementation=impl,
        channel=Channel.WINDOW,
        registered_by=clerk,
        walk_in={"name": "赵六", "id_number": f.resident_id(79)},
    )
    assert app.window is not None
