"""Demo applications (办件) so that `make run` shows a non-empty acceptance queue and "my cases".

Runs after the catalogue demo (INSTALLED_APPS order core, accounts, catalog, cases). Idempotent:
each application has a fixed idempotency key on the demo citizen's account and is only moved
forward when it is not yet in its target state; nothing is created twice.

- 王小明 (13800000001, demo-citizen) → 六安市市场监督管理局:
  one submitted application waiting in the queue, one with a correction notice, one accepted
  (case number + deadline).
- la-market-clerk 刘受理: window clerk (综合受理) of 六安市市场监督管理局 who pre-reviews them.
  (la-clerk works for 数据资源管理局; the data scope shows a clerk their own department only.)
"""

from __future__ import annotations

from typing import Any, TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tongban.accounts.models import Person, Role, StaffProfile
from tongban.cases import services
from tongban.cases.models import Application, Status
from tongban.catalog.forms_schema import compose_schema
from tongban.catalog.models import ItemImplementation, ItemVersion

CITIZEN_USERNAME = "demo-citizen"
CLERK = ("la-market-clerk", "刘受理")
CITY = "341500"
#: Items tried in this order; the first published one at the city 市场监管 bureau is used.
PREFERRED = ["企业设立登记", "企业变更登记", "药品零售企业经营许可", "特种设备使用登记", "食品生产许可"]
PDF = b"%PDF-1.4\n% tongban demo\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

# (idempotency key, target status)
DEMO = [
    ("demo-submitted", Status.SUBMITTED),
    ("demo-correction", Status.CORRECTION_REQUESTED),
    ("demo-accepted", Status.IN_PROGRESS),
]


def _clerk():
    from tongban.accounts import services as accounts
    from tongban.accounts.demo import STAFF_PASSWORD, totp_key
    from tongban.core.demo import department
    from tongban.core.models import Region

    profile = StaffProfile.objects.filter(user__username=CLERK[0]).select_related("user").first()
    if profile is None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        profile = accounts.create_staff(
            username=CLERK[0],
            name=CLERK[1],
            department=department(CITY, "market"),
            region=Region.objects.get(code=CITY),
            roles=[Role.WINDOW_CLERK],
            password=STAFF_PASSWORD,
            title="演示账号",
        )
        TOTPDevice.objects.update_or_create(
            user=profile.user, name="演示令牌", defaults={"key": totp_key(CLERK[0]), "confirmed": True}
        )
    return profile.user


def _item() -> ItemImplementation | None:
    from tongban.core.demo import department

    org = department(CITY, "market")
    published = ItemImplementation.objects.filter(
        organisation=org,
        published_version__isnull=False,
        published_version__online_depth__gte=ItemVersion.OnlineDepth.PRE_REVIEW,
    ).select_related("basic_item", "published_version")
    by_name = {impl.basic_item.name: impl for impl in published}
    for name in PREFERRED:
        if name in by_name:
            return by_name[name]
    return next(iter(by_name.values()), None)


def _filled(app: Application) -> dict[str, Any]:
    """Required form fields the profile did not pre-fill, with plausible demo values."""
    from tongban.accounts.demo import ENTERPRISE

    schema = compose_schema(app.version)
    values: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if name not in schema.get("required", []) or app.form_data.get(name) not in (None, ""):
            continue
        if prop.get("enum"):
            values[name] = prop["enum"][0]
        elif prop.get("type") in ("number", "integer"):
            values[name] = 100
        elif "credit_code" in name:
            values[name] = ENTERPRISE[1]
        elif prop.get("format") == "date":
            values[name] = "2026-01-05"
        elif "enterprise" in name or name.endswith("_name"):
            values[name] = "六安小明茶叶商贸有限公司"
        else:
            values[name] = "六安市金安区梅山南路 18 号（演示）"
    return values


def _prepare(app: Application, user) -> list[dict[str, str]]:
    answers = {q.key: q.options.all()[0].key for q in app.version.questions.prefetch_related("options")}
    services.save_draft(app, answers=answers, form_data=_filled(app))
    app.refresh_from_db()
    have = services.current_files(app)
    for material in services.required_materials(app):
        if material.source != material.Source.APPLICANT or material.pk in have:
            continue
        upload = SimpleUploadedFile(f"{material.name[:40]}.pdf", PDF, content_type="application/pdf")
        services.upload_material(app, material.pk, upload, by=user)
    return services.check_complete(app)


def load(stdout: TextIO | None = None) -> None:
    write = stdout.write if stdout is not None else (lambda s: None)
    person = Person.objects.filter(user__username=CITIZEN_USERNAME).select_related("user").first()
    impl = _item()
    if person is None or impl is None:
        write("办件：缺少演示群众账号或市场监管事项，跳过。\n")
        return
    clerk = _clerk()
    user = person.user
    made = []
    for key, target in DEMO:
        with transaction.atomic():
            app = services.start_application(
                implementation=impl, owner=user, person=person, idempotency_key=key
            )
            if app.status == Status.DRAFT:
                problems = _prepare(app, user)
                if problems:
                    write(f"办件：演示申请 {key} 无法提交：{problems[0]['message']}\n")
                    continue
                app = services.submit(app, actor=user)
            if app.status == Status.SUBMITTED and target == Status.CORRECTION_REQUESTED:
                material = services.required_materials(app)[0]
                services.request_corrections(
                    app,
                    clerk=clerk,
                    items=[
                        {
                            "material_id": material.pk,
                            "problem": "扫描件不清晰，请重新扫描上传（加盖公章的页面须完整）。",
                        },
                        {"field": "联系地址", "problem": "请填写到门牌号，与营业场所一致。"},
                    ],
                    note="请一次性补正以上内容后重新提交。",
                )
            elif app.status == Status.SUBMITTED and target == Status.IN_PROGRESS:
                services.accept(app, clerk=clerk)
            app.refresh_from_db()
            made.append(f"{app.reference}（{app.get_status_display()}）")
    write(
        f"办件：{person.name}（{CITIZEN_USERNAME}）在“{impl.basic_item.name}”的演示申请 "
        f"{'、'.join(made)}；预审人员 {CLERK[0]} {CLERK[1]}（{impl.organisation.name}）。\n"
    )
