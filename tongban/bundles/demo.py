"""Demo bundles for 六安市 (341500), idempotent: ``manage.py load_demo`` calls :func:`load`
(it imports ``tongban.<app>.demo`` for every installed app, in INSTALLED_APPS order, so this runs
after the catalogue and case demos).

- 企业开办 (qiye-kaiban): 企业设立登记 + 公章刻制备案 + 新办纳税人涉税信息确认 + 发票领用 (按需) +
  单位参保登记 + 单位住房公积金缴存登记; 王小明 has one submitted, waiting in la-market-clerk's queue.
- 证照同销 (zhengzhao-tongxiao, after 蓬莱区's reform): 企业注销登记 + 食品经营许可注销 (持有时) +
  公共场所卫生许可注销 (持有时); 王小明 for 六安皖西茶业有限公司, accepted at one window, handled
  by 市场监管 and 卫健 in parallel and completed, with the combined result PDF.
- One handling account (审批人员 + 部门负责人) per 六安市 department in the bundles that has none
  (la-police-head, la-tax-head, la-hrss-head, la-fund-head, la-health-head; 市场监管 uses la-head),
  so the submitted 企业开办 can be taken to the end by hand: la-market-clerk accepts it, each
  department's head completes its tasks at /workbench/tasks/.

Items a bundle needs but the catalogue demo implements at county level only (单位参保登记) get a
city implementation here, from the same catalogue spec.
"""

from __future__ import annotations

from typing import Any, TextIO

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from tongban.bundles import merge, services
from tongban.bundles.models import Bundle, BundleItem, BundleStatus

CITY = "341500"
PDF = b"%PDF-1.4\n% tongban bundle demo\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

BUNDLES = [
    {
        "code": "qiye-kaiban",
        "name": "企业开办",
        "enterprise_stage": "start",
        "description": "开办企业一次办：营业执照、公章刻制、涉税信息确认和发票、社保登记、公积金开户，"
        "一张表、一套材料、一个窗口受理，各部门并联办理，全程网办零跑动。",
        "items": [
            ("company-setup", False, ""),
            ("seal-filing", False, ""),
            ("tax-info-confirm", False, ""),
            ("invoice", True, "需要同时申领发票"),
            ("employer-insurance", False, ""),
            ("fund-employer", False, ""),
        ],
    },
    {
        "code": "zhengzhao-tongxiao",
        "name": "证照同销",
        "enterprise_stage": "close",
        "description": "参照蓬莱区“证照同销”做法：企业注销营业执照时，一并注销其持有的经营许可证，"
        "只勾选本企业实际持有的许可证，一次申请、一窗受理、同步办结。",
        "items": [
            ("company-close", False, ""),
            ("food-business-cancel", True, "本企业持有食品经营许可证"),
            ("public-place-hygiene-cancel", True, "本企业持有公共场所卫生许可证"),
        ],
    },
]

# (bundle code, idempotency key, act for the demo enterprise?, target status)
DEMO_CASES = [
    ("qiye-kaiban", "demo-bundle-kaiban", False, BundleStatus.SUBMITTED),
    ("zhengzhao-tongxiao", "demo-bundle-tongxiao", True, BundleStatus.COMPLETED),
]
#: department key → (username, name) of its demo handler (approver + department head)
HANDLERS = {
    "market": ("la-head", "市场监管负责人"),
    "police": ("la-police-head", "周建军"),
    "tax": ("la-tax-head", "吴丽华"),
    "hrss": ("la-hrss-head", "郑国强"),
    "fund": ("la-fund-head", "冯晓燕"),
    "health": ("la-health-head", "褚卫东"),
}


def _spec(key: str) -> dict[str, Any]:
    from tongban.catalog.data.demo_items import ITEMS

    return next(s for s in ITEMS if s["key"] == key)


def _city_implementation(key: str):
    """The 六安市 implementation of a catalogue demo item, created from its spec when missing."""
    from tongban.catalog import services as catalog
    from tongban.catalog.demo import basic_item_for, department, guide_for
    from tongban.catalog.models import BasicItem, ItemImplementation
    from tongban.core.models import Region

    spec = _spec(key)
    region = Region.objects.filter(code=CITY).first()
    org = department(CITY, spec["dept"])
    if region is None or org is None:
        return None
    item = BasicItem.objects.filter(name=spec["name"]).first() or basic_item_for(spec, {})
    impl = ItemImplementation.objects.filter(basic_item=item, organisation=org).first()
    if impl is None:
        impl = catalog.create_implementation(item, org, region=region)
        version = impl.versions.get()
        catalog.update_draft(version, guide_for(spec, region, org))
        catalog.publish_directly(version, note="演示数据：一件事所需的市级实施清单事项")
        impl.refresh_from_db()
    return impl if impl.published_version_id else None


def load_bundles() -> list[Bundle]:
    from tongban.catalog.demo import department
    from tongban.core.models import Region

    region = Region.objects.filter(code=CITY).first()
    lead = department(CITY, "market")
    if region is None or lead is None:
        return []
    made = []
    for spec in BUNDLES:
        impls = [(_city_implementation(key), optional, label) for key, optional, label in spec["items"]]
        if any(impl is None for impl, _, _ in impls):
            continue
        bundle, _ = Bundle.objects.update_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "region": region,
                "enterprise_stage": spec["enterprise_stage"],
                "description": spec["description"],
                "lead_department": lead,
                "is_active": True,
            },
        )
        for order, (impl, optional, label) in enumerate(impls, start=1):
            BundleItem.objects.update_or_create(
                bundle=bundle,
                implementation=impl,
                defaults={"order": order, "optional": optional, "option_label": label},
            )
        made.append(bundle)
    return made


def fill(bc) -> None:
    """Answers, the form fields the profile did not pre-fill, and every material to upload."""
    from tongban.accounts.demo import enterprise_code

    questions = merge.merged_questions(merge.included_items(bc))
    answers = {q.key: q.options[0][0] for q in questions}
    schema = merge.merged_schema(merge.included_items(bc))
    values: dict[str, Any] = {}
    for name, prop in schema["properties"].items():
        if bc.form_data.get(name) not in (None, "") or name not in schema["required"]:
            continue
        if prop.get("enum"):
            values[name] = prop["enum"][0]
        elif "credit_code" in name:
            values[name] = enterprise_code(CITY, "MA2R8D6F3")
        elif name == "legal_representative":
            values[name] = "王小明"
        elif "name" in name:
            values[name] = "六安小明茶叶商贸有限公司"
        else:
            values[name] = "六安市金安区梅山南路 18 号（演示）"
    services.save_draft(bc, answers=answers, form_data=values)
    bc.refresh_from_db()
    have = services.current_files(bc)
    for material in merge.merged_materials(merge.included_items(bc), bc.answers):
        if material.needs_upload and material.key not in have:
            upload = SimpleUploadedFile(f"{material.name[:40]}.pdf", PDF, content_type="application/pdf")
            services.upload_material(bc, material.key, upload, by=bc.owner)


def _handler(key: str):
    """The demo handler of a 六安市 department, created (with its TOTP device) when missing."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import services as accounts
    from tongban.accounts.demo import STAFF_PASSWORD, totp_key
    from tongban.accounts.models import Role, StaffProfile
    from tongban.catalog.demo import department
    from tongban.core.models import Region

    username, name = HANDLERS[key]
    profile = StaffProfile.objects.filter(user__username=username).select_related("user").first()
    if profile is None:
        profile = accounts.create_staff(
            username=username,
            name=name,
            department=department(CITY, key),
            region=Region.objects.get(code=CITY),
            roles=[Role.APPROVER, Role.DEPARTMENT_HEAD],
            password=STAFF_PASSWORD,
            title="演示账号",
        )
        TOTPDevice.objects.update_or_create(
            user=profile.user, name="演示令牌", defaults={"key": totp_key(username), "confirmed": True}
        )
    return profile.user


def handlers() -> dict[int, Any]:
    """Department id → its demo handler."""
    from tongban.catalog.demo import department

    found = {}
    for key in HANDLERS:
        org = department(CITY, key)
        if org is not None:
            found[org.pk] = _handler(key)
    return found


def finish(app, by_department: dict[int, Any]) -> None:
    """The department's handler takes every open task of ``app`` to 办结 (electronic delivery)."""
    from tongban.workflow import services as workflow
    from tongban.workflow.models import Outcome, Task, TaskStatus

    user = by_department.get(app.department_id)
    if user is None:
        return
    for _ in range(12):
        tasks = list(Task.objects.filter(application=app, status__in=[TaskStatus.OPEN, TaskStatus.CLAIMED]))
        if not tasks:
            return
        for task in tasks:
            workflow.complete_task(
                task,
                user=user,
                outcome=Outcome.APPROVE,
                opinion="经审查，符合法定条件，同意办理。",
                handover="electronic" if task.stage == "deliver" else "",
            )


def load(stdout: TextIO | None = None) -> None:
    from tongban.accounts.demo import ENTERPRISE
    from tongban.accounts.models import Enterprise, Person

    write = stdout.write if stdout is not None else (lambda s: None)
    bundles = {b.code: b for b in load_bundles()}
    if not bundles:
        write("一件事：缺少六安市区划、部门或事项，跳过。\n")
        return
    person = Person.objects.filter(user__username="demo-citizen").select_related("user").first()
    made = []
    if person is not None:
        from tongban.cases.demo import _clerk

        clerk = _clerk()
        by_department = handlers()
        enterprise = Enterprise.objects.filter(credit_code=ENTERPRISE[1]).first()
        for code, key, as_enterprise, target in DEMO_CASES:
            bundle = bundles.get(code)
            if bundle is None or (as_enterprise and enterprise is None):
                continue
            with transaction.atomic():
                bc = services.start(
                    bundle=bundle,
                    owner=person.user,
                    person=person,
                    enterprise=enterprise if as_enterprise else None,
                    idempotency_key=key,
                )
                if bc.status == BundleStatus.DRAFT:
                    if code == "zhengzhao-tongxiao":
                        services.save_draft(bc, selected=[i.pk for i in bundle.items.filter(optional=True)])
                    fill(bc)
                    problems = services.check_complete(bc)
                    if problems:
                        write(f"一件事：演示申请 {key} 无法提交：{problems[0]['message']}\n")
                        continue
                    bc = services.submit(bc, actor=person.user)
                if bc.status == BundleStatus.SUBMITTED and target != BundleStatus.SUBMITTED:
                    bc = services.accept_all(bc, clerk=clerk)
                if bc.status == BundleStatus.IN_PROGRESS and target == BundleStatus.COMPLETED:
                    for app in services.children(bc):
                        finish(app, by_department)
                    bc.refresh_from_db()
                made.append(f"{bundle.name} {bc.reference}（{bc.get_status_display()}）")
    write(
        f"一件事：{'、'.join(b.name for b in bundles.values())}（六安市）；"
        f"演示申请 {'、'.join(made) or '无'}；一窗受理人员 la-market-clerk，"
        f"各部门办理人员 {'、'.join(u for u, _ in HANDLERS.values())}（密码同其他工作人员演示账号）。\n"
    )
