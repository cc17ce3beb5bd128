"""Scale: a generator of realistic cases (COPY in large batches) and the scale-query probes.

Run in a Django process with the bench environment (``bench.common.bench_env``)::

    python -m bench.scale generate --to 100000      # grow the database to 100k cases
    python -m bench.scale probe --label 100k        # p95 of every probe, JSON on stdout

Realistic distributions: every published item of the catalogue (popularity skewed), their regions
and departments, channels (online / window / mobile / helper), submission dates over two years
(more recent than old), statuses by age (recent cases still in pre-review or handling, old ones
mostly completed), history chains of 1–6 events per case (create, submit, corrections and
resubmission, acceptance or refusal, completion), case numbers with their daily counters,
statutory deadlines on the working-day calendar, applicants with encrypted ID numbers and blind
indexes, citizen accounts for the online channels.

Pluggable: ``EXTENDERS`` (functions adding rows for other apps — workflow tasks, ledger entries —
to each generated batch) and ``PROBES`` (scale queries; a probe whose module is not installed is
reported as "not available", never with a made-up number).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bench.common import VAR, django_setup, percentile

TZ = ZoneInfo("Asia/Shanghai")
BATCH = 25_000
SEED = 20261123
FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅兰玉萍志文斌辉鹏飞"
REGIONS = ["341502", "341503", "341504", "341522", "341523", "341524", "341525", "341500"]
CHANNELS = [("online", 55), ("window", 30), ("mobile", 10), ("helper", 5)]
SAMPLES_FILE = VAR / "scale-samples.json"


# ----------------------------------------------------------------------------- rows via COPY


class Copier:
    """COPY rows into a model's table; columns come from the model, so fields added later by
    other apps get their declared default without this file changing."""

    def __init__(self, model, connection):
        from django.db import models

        self.model = model
        self.table = model._meta.db_table
        self.columns: list[str] = []
        self.defaults: dict[str, object] = {}
        now = dt.datetime.now(dt.UTC)
        for f in model._meta.concrete_fields:
            self.columns.append(f.column)
            if f.has_default():
                value = f.get_db_prep_save(f.get_default(), connection)
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.null:
                value = None
            elif isinstance(f, models.CharField | models.TextField):
                value = f.get_db_prep_save("", connection)
            else:
                value = None
            self.defaults[f.column] = value

    def copy(self, cursor, rows: list[dict]) -> int:
        cols = self.columns
        defaults = self.defaults
        if hasattr(cursor, "copy"):  # psycopg 3 on PostgreSQL
            with cursor.copy(f'COPY "{self.table}" ({", ".join(cols)}) FROM STDIN') as cp:
                for row in rows:
                    cp.write_row([row[c] if c in row else defaults[c] for c in cols])
        else:  # SQLite (the test suite's default database): plain multi-row inserts
            from django.db import connection

            sql = f'INSERT INTO "{self.table}" ({", ".join(cols)}) VALUES ({", ".join(["%s"] * len(cols))})'
            with connection.cursor() as django_cursor:
                django_cursor.executemany(
                    sql, [[_plain(row[c] if c in row else defaults[c]) for c in cols] for row in rows]
                )
        return len(rows)


def _plain(value):
    """SQLite: JSON adapters to text, aware datetimes to UTC text as Django stores them."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
    if hasattr(value, "dumps") and hasattr(value, "obj"):  # psycopg Jsonb adapter
        return json.dumps(value.obj)
    return value


def _is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def _raw_cursor():
    from django.db import connection

    connection.ensure_connection()
    return connection.connection.cursor()


def _next_id(table: str) -> int:
    cur = _raw_cursor()
    cur.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"')
    return cur.fetchone()[0]


def _fix_sequence(table: str) -> None:
    if not _is_postgres():
        return  # SQLite continues after MAX(rowid) by itself
    cur = _raw_cursor()
    cur.execute(
        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
        f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
    )


# ----------------------------------------------------------------------------- reference data


@dataclass
class Item:
    id: int
    code: str
    region_id: int
    department_id: int
    version_id: int
    limit: int | None
    spot: bool
    promised: int | None = None


@dataclass
class Person:
    key: int
    name: str
    id_number: str
    id_index: str
    enc_id: str
    enc_phone: str
    user_id: int | None = None


def person_identity(key: int) -> tuple[str, str, str]:
    """(name, resident ID number, mobile) of synthetic person ``key`` — deterministic, unique."""
    from tongban.core.identifiers import resident_id_check_char

    rng = random.Random(key * 7919 + 13)
    name = rng.choice(FAMILY) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    birth = dt.date(1950, 1, 1) + dt.timedelta(days=key % 20089)
    serial = f"{(key // 20089) % 1000:03d}"
    first17 = f"{REGIONS[key % len(REGIONS)]}{birth:%Y%m%d}{serial}"
    return name, first17 + resident_id_check_char(first17), f"139{key:08d}"


@dataclass
class Context:
    items: list[Item]
    item_weights: list[float]
    staff_by_department: dict[int, list[int]]
    all_staff: list[int]
    counters: dict[tuple[int, dt.date], int]
    persons: dict[int, Person] = field(default_factory=dict)
    form_tokens: dict[int, str] = field(default_factory=dict)
    deadlines: dict[tuple[dt.date, int], tuple[dt.date, bool]] = field(default_factory=dict)
    samples: dict[str, list] = field(default_factory=lambda: {"progress": [], "cases": [], "owners": []})
    workflow: dict | None = None  # default process version and its task steps, when installed
    calendar: object | None = None


def load_context() -> Context:
    from tongban.accounts.models import StaffProfile
    from tongban.cases.models import CaseNumberCounter
    from tongban.catalog.models import ItemImplementation

    impls = list(
        ItemImplementation.objects.filter(published_version__isnull=False)
        .select_related("published_version")
        .order_by("code")
    )
    items = [
        Item(
            i.pk,
            i.code,
            i.region_id,
            i.organisation_id,
            i.published_version_id,
            i.published_version.legal_limit_days,
            i.published_version.handling_kind == "spot",
            getattr(i.published_version, "promised_limit_days", None),
        )
        for i in impls
    ]
    rng = random.Random(SEED)
    ranks = list(range(1, len(items) + 1))
    rng.shuffle(ranks)
    weights = [1 / r**0.9 for r in ranks]  # a few everyday items carry most cases (Zipf-like)
    staff: dict[int, list[int]] = {}
    for user_id, dept_id in StaffProfile.objects.values_list("user_id", "department_id"):
        staff.setdefault(dept_id, []).append(user_id)
    counters = {
        (c.implementation_id, c.date): c.last
        for c in CaseNumberCounter.objects.only("implementation_id", "date", "last")
    }
    ctx = Context(items, weights, staff, [u for us in staff.values() for u in us], counters)
    ctx.workflow = _workflow_reference()
    return ctx


def _workflow_reference() -> dict | None:
    """The default process (审查 → 审核 → 决定 → 送达) every generated case runs, when the
    back-office workflow is installed."""
    from django.apps import apps

    if not apps.is_installed("tongban.workflow"):
        return None
    from tongban.workflow import services
    from tongban.workflow.graph import Graph

    version = services.default_version()
    graph = Graph(version.graph)
    steps, key = [], graph.start
    while graph.node(key).get("type") == "task":
        node = graph.node(key)
        steps.append(node)
        key = node["next"]
    return {"version_id": version.pk, "steps": steps}


def add_workdays(ctx: Context, day: dt.date, days: int) -> dt.date:
    return deadline(ctx, day, days)[0]


def back_office(ctx: Context, item: Item, row: dict, chain: list, *, status: str, t, now, rng, clerk):
    """Process, tasks and their events after acceptance (what workflow.start_process and
    complete_task write): returns the task rows and the case's final status."""
    wf = ctx.workflow
    steps = wf["steps"]
    received = row["received_date"]
    limit = item.promised or item.limit or 20
    row["process_version_id"] = wf["version_id"]
    row["promised_limit_days"] = item.promised
    if item.promised is not None:
        row["promised_deadline"] = add_workdays(ctx, received, item.promised)
        if row.get("deadline") is None:
            row["deadline"] = row["promised_deadline"]
    accepted_status = chain[-1][2]
    chain.append(("process_started", accepted_status, "in_progress", t, clerk, {"process": "default"}))
    done_steps = len(steps) if status == "completed" else rng.randrange(0, len(steps))
    tasks = []
    current = "in_progress"
    for i, node in enumerate(steps[: done_steps + (0 if done_steps == len(steps) else 1)]):
        opened = t.astimezone(TZ).date()
        share_days = -(-limit * int(node.get("share") or 0) // 100)
        due = add_workdays(ctx, opened, share_days)
        if row.get("deadline") and due > row["deadline"]:
            due = row["deadline"]
        task = {
            "application_id": row["id"],
            "node_key": node["key"],
            "name": node.get("name", node["key"]),
            "stage": node.get("stage", ""),
            "role": node.get("role", "approver"),
            "region_id": item.region_id,
            "department_id": item.department_id,
            "split_key": "",
            "status": "open",
            "share": int(node.get("share") or 0),
            "limit_days": share_days,
            "opened_on": opened,
            "due_date": due,
            "green_channel": False,
            "created_at": t,
            "outcome": "",
            "opinion": "",
            "return_to": "",
        }
        chain.append(("task_opened", current, current, t, clerk, {"step": task["name"]}))
        if i < done_steps:
            t = _later(t, rng, 0.05, max(0.2, share_days * 1.2), now)
            task.update(status="done", assignee_id=clerk, claimed_at=t, completed_at=t, outcome="approve")
            task["opinion"] = "同意。"
            chain.append(
                ("task_completed", current, current, t, clerk, {"step": task["name"], "outcome": "approve"})
            )
            if node.get("stage") == "decide":
                chain.append(("decide", current, "decided", t, clerk, {"decision": "approved"}))
                current = "decided"
                row.update(decision="approved", decision_at=t)
            if node.get("stage") == "deliver":
                chain.append(("hand_over", current, current, t, clerk, {"method": "electronic"}))
        elif rng.random() < 0.5:
            task.update(status="claimed", assignee_id=clerk, claimed_at=t)
        tasks.append(task)
    if status == "completed":
        chain.append(("complete", current, "completed", t, clerk, {}))
        row["completed_at"] = t
        finished = t.astimezone(TZ).date()
        row["on_time"] = row.get("deadline") is None or finished <= row["deadline"]
        row["handling_working_days"] = max(0, min(limit * 2, (finished - received).days * 5 // 7))
        current = "completed"
    row["status"] = current
    return tasks, t


def ensure_persons(ctx: Context, keys: set[int]) -> None:
    """Synthetic applicants with encrypted ID/phone and a citizen account each (bench-u-<key>)."""
    from tongban.accounts.crypto import blind_index, encrypt
    from tongban.accounts.models import User

    missing = [k for k in keys if k not in ctx.persons]
    if not missing:
        return
    existing = dict(
        User.objects.filter(username__in=[f"bench-u-{k}" for k in missing]).values_list("username", "id")
    )
    from django.db import connection

    users = Copier(User, connection)
    next_user = _next_id(User._meta.db_table)
    new_users = []
    for k in missing:
        name, number, phone = person_identity(k)
        user_id = existing.get(f"bench-u-{k}")
        if user_id is None:
            user_id = next_user
            next_user += 1
            new_users.append(
                {
                    "id": user_id,
                    "username": f"bench-u-{k}",
                    "password": "!bench-unusable",
                    "display_name": name,
                    "is_active": True,
                }
            )
        ctx.persons[k] = Person(
            k,
            name,
            number,
            blind_index(number, "resident-id"),
            encrypt(number),
            encrypt(phone),
            user_id,
        )
    if new_users:
        users.copy(_raw_cursor(), new_users)
        _fix_sequence(User._meta.db_table)


def deadline(ctx: Context, received: dt.date, limit: int) -> tuple[dt.date, bool]:
    key = (received, limit)
    if key not in ctx.deadlines:
        if ctx.calendar is None:
            from tongban.core.workdays import WorkCalendar

            # One calendar view for the whole run: it loads the special days once and widens.
            ctx.calendar = WorkCalendar()
        result = ctx.calendar.add_working_days(received, limit)
        ctx.deadlines[key] = (result.date, result.provisional)
    return ctx.deadlines[key]


def form_token(ctx: Context, item: Item) -> str:
    if item.id not in ctx.form_tokens:
        from tongban.accounts.crypto import encrypt

        ctx.form_tokens[item.id] = encrypt(
            json.dumps({"联系地址": "六安市金安区梅山南路 18 号", "备注": "批量生成"}, ensure_ascii=False)
        )
    return ctx.form_tokens[item.id]


# ----------------------------------------------------------------------------- case plans

STATUS_BY_AGE = [
    # (max days back, [(status, weight)])
    (
        3,
        [
            ("draft", 8),
            ("submitted", 30),
            ("correction_requested", 7),
            ("accepted", 40),
            ("accepted_with_gaps", 3),
            ("refused", 4),
            ("completed", 8),
        ],
    ),
    (
        60,
        [
            ("draft", 4),
            ("correction_requested", 2),
            ("accepted", 45),
            ("accepted_with_gaps", 2),
            ("refused", 4),
            ("completed", 43),
        ],
    ),
    (10_000, [("draft", 3), ("correction_requested", 1), ("accepted", 4), ("refused", 4), ("completed", 88)]),
]
ACCEPTED = {"accepted", "accepted_with_gaps", "completed"}


def _working_time(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(8, 30), TZ) + dt.timedelta(seconds=rng.randrange(0, 9 * 3600))


def _later(t: dt.datetime, rng: random.Random, min_days: float, max_days: float, now: dt.datetime):
    return min(t + dt.timedelta(days=rng.uniform(min_days, max_days)), now - dt.timedelta(seconds=1))


@dataclass
class Plan:
    """What to generate: a status mix by age, or one fixed status (seeding the load pools)."""

    count: int
    fixed_status: str | None = None
    days_back_max: int = 730
    items: list[Item] | None = None
    persons: list[Person] | None = None  # real accounts (load pools) instead of synthetic ones
    person_pool: int = 0  # synthetic persons to draw from (0: count / 6)
    channel: str | None = None
    idempotency_prefix: str = ""


def generate(ctx: Context, plan: Plan, *, log: Callable[[str], None] = lambda s: None) -> dict:
    """Write ``plan.count`` cases with their event chains; returns counts."""
    from django.db import connection, transaction

    from tongban.cases.models import Application, CaseEvent, CaseNumberCounter

    apps_copy = Copier(Application, connection)
    events_copy = Copier(CaseEvent, connection)
    rng = random.Random(SEED + _next_id(Application._meta.db_table))
    now = dt.datetime.now(TZ)
    today = now.date()
    items = plan.items or ctx.items
    weights = None if plan.items else ctx.item_weights
    channels, channel_w = zip(*CHANNELS, strict=True)
    pool = plan.person_pool or max(200, plan.count // 6)
    made = {"cases": 0, "events": 0}
    touched_counters: set[tuple[int, dt.date]] = set()
    started = time.perf_counter()
    remaining = plan.count
    while remaining > 0:
        n = min(BATCH, remaining)
        remaining -= n
        picks = rng.choices(items, weights=weights, k=n)
        if plan.persons:
            people = [rng.choice(plan.persons) for _ in range(n)]
        else:
            keys = [int(pool * rng.random() ** 1.3) for _ in range(n)]
            ensure_persons(ctx, set(keys))
            people = [ctx.persons[k] for k in keys]
        app_id = _next_id(Application._meta.db_table)
        event_id = _next_id(CaseEvent._meta.db_table)
        app_rows: list[dict] = []
        event_rows: list[dict] = []
        task_rows: list[dict] = []
        for item, person in zip(picks, people, strict=True):
            days_back = 0 if plan.days_back_max == 0 else int(plan.days_back_max * rng.random() ** 1.5)
            created = _working_time(today - dt.timedelta(days=days_back), rng)
            if created >= now:
                created = now - dt.timedelta(minutes=rng.randrange(30, 300))
            if plan.fixed_status:
                status = plan.fixed_status
            else:
                table = next(t for limit, t in STATUS_BY_AGE if days_back <= limit)
                status = rng.choices([s for s, _ in table], weights=[w for _, w in table])[0]
                if status == "submitted" and days_back > 3:
                    status = "accepted"
            channel = plan.channel or rng.choices(channels, weights=channel_w)[0]
            owner = person.user_id if channel != "window" else None
            staff = ctx.staff_by_department.get(item.department_id) or ctx.all_staff
            clerk = rng.choice(staff) if staff else None
            registered_by = clerk if channel in ("window", "helper") else None
            applicant_actor = registered_by or owner
            chain: list[tuple[str, str, str, dt.datetime, int | None, dict]] = [
                ("create", "", "draft", created, applicant_actor, {"channel": channel})
            ]
            t = created
            row = {
                "id": app_id,
                "applicant_name": person.name,
                "applicant_id_index": person.id_index,
                "applicant_id_number": person.enc_id,
                "applicant_phone": person.enc_phone,
                "channel": channel,
                "answers": "{}",
                "form_data": form_token(ctx, item),
                "idempotency_key": f"{plan.idempotency_prefix}{app_id}" if plan.idempotency_prefix else "",
                "status": status,
                "round": 0,
                "created_at": created,
                "deemed_accepted": False,
                "deadline_provisional": False,
                "gaps": "[]",
                "refusal_reason": "",
                "refusal_notice": "",
                "department_id": item.department_id,
                "implementation_id": item.id,
                "owner_id": owner,
                "region_id": item.region_id,
                "registered_by_id": registered_by,
                "version_id": item.version_id,
            }
            if status != "draft":
                t = created + dt.timedelta(minutes=rng.randrange(3, 90))
                if t >= now:
                    t = now - dt.timedelta(seconds=30)
                chain.append(("submit", "draft", "submitted", t, applicant_actor, {}))
                row.update(round=1, submitted_at=t)
                corrected = status == "correction_requested" or (
                    status in ACCEPTED and days_back > 10 and rng.random() < 0.1
                )
                if corrected:
                    t = _later(t, rng, 0.5, 3, now)
                    chain.append(
                        ("request_corrections", "submitted", "correction_requested", t, clerk, {"items": 2})
                    )
                    row["decided_at"] = t
                    if status != "correction_requested":
                        t = _later(t, rng, 1, 5, now)
                        chain.append(
                            ("resubmit", "correction_requested", "submitted", t, applicant_actor, {})
                        )
                        row.update(round=2, submitted_at=t)
                row["received_date"] = row["submitted_at"].astimezone(TZ).date()
            if status in ACCEPTED:
                deemed = status == "accepted" and rng.random() < 0.02
                t = _later(t, rng, 0.02, 0.1 if item.spot else 3, now)
                received = row["received_date"]
                key = (item.id, received)
                number = ctx.counters.get(key, 0) + 1
                ctx.counters[key] = number
                touched_counters.add(key)
                case_number = f"{item.code}{received:%Y%m%d}{number:06d}"
                action = "accept_with_gaps" if status == "accepted_with_gaps" else "accept"
                to = "accepted_with_gaps" if status == "accepted_with_gaps" else "accepted"
                accepter = None if deemed else clerk
                chain.append(
                    (
                        "deemed_accept" if deemed else action,
                        "submitted",
                        to,
                        t,
                        accepter,
                        {"case_number": case_number},
                    )
                )
                row.update(
                    case_number=case_number,
                    accepted_at=t,
                    accepted_by_id=accepter,
                    decided_at=t,
                    deemed_accepted=deemed,
                    legal_limit_days=item.limit,
                )
                if item.limit is not None:
                    row["deadline"], row["deadline_provisional"] = deadline(ctx, received, item.limit)
                if status == "accepted_with_gaps":
                    row["gaps"] = json.dumps([{"material_id": None, "material": "非关键材料（容缺）"}])
                    row["gaps_due_date"] = received + dt.timedelta(days=20)
                if ctx.workflow is not None and not item.spot:
                    tasks, t = back_office(
                        ctx, item, row, chain, status=status, t=t, now=now, rng=rng, clerk=clerk
                    )
                    task_rows += tasks
                elif status == "completed":
                    span = 0.01 if item.spot else max(1, (item.limit or 10)) * rng.uniform(0.2, 1.3) * 1.4
                    t = _later(t, rng, span * 0.5, span, now)
                    chain.append(
                        ("complete_on_the_spot" if item.spot else "complete", to, "completed", t, clerk, {})
                    )
                    row["completed_at"] = t
                if len(ctx.samples["progress"]) < 400 and rng.random() < 0.05:
                    ctx.samples["progress"].append([case_number, person.id_number])
            elif status == "refused":
                t = _later(t, rng, 0.5, 3, now)
                chain.append(("refuse", "submitted", "refused", t, clerk, {}))
                row.update(refusal_reason="不符合受理条件（批量生成）", decided_at=t)
            row["updated_at"] = t
            app_rows.append(row)
            for action, from_s, to_s, at, actor, data in chain:
                event_rows.append(
                    {
                        "id": event_id,
                        "application_id": app_id,
                        "action": action,
                        "from_status": from_s,
                        "to_status": to_s,
                        "actor_id": actor,
                        "on_behalf_of_id": owner if actor is not None and owner and actor != owner else None,
                        "reason": "",
                        "data": json.dumps(data, ensure_ascii=False),
                        "created_at": at,
                    }
                )
                event_id += 1
            if len(ctx.samples["cases"]) < 400 and rng.random() < 0.05:
                ctx.samples["cases"].append(app_id)
            if owner and len(ctx.samples["owners"]) < 400 and rng.random() < 0.05:
                ctx.samples["owners"].append(owner)
            app_id += 1
        with transaction.atomic():
            cur = _raw_cursor()
            apps_copy.copy(cur, app_rows)
            events_copy.copy(cur, event_rows)
            if task_rows:
                made["tasks"] = made.get("tasks", 0) + _copy_tasks(task_rows)
            for extend in EXTENDERS:
                extend(ctx, app_rows, event_rows)
            # With the batch's cases: a run interrupted later must not hand out their numbers again.
            _write_counters(CaseNumberCounter, ctx, touched_counters)
            touched_counters.clear()
        made["cases"] += len(app_rows)
        made["events"] += len(event_rows)
        log(
            f"  {made['cases']:>8} cases, {made['events']:>8} events "
            f"({made['cases'] / (time.perf_counter() - started):.0f} cases/s)"
        )
    _fix_sequence(Application._meta.db_table)
    _fix_sequence(CaseEvent._meta.db_table)
    return made


def _copy_tasks(rows: list[dict]) -> int:
    from django.db import connection

    from tongban.workflow.models import Task

    next_id = _next_id(Task._meta.db_table)
    for n, row in enumerate(rows):
        row["id"] = next_id + n
    Copier(Task, connection).copy(_raw_cursor(), rows)
    _fix_sequence(Task._meta.db_table)
    return len(rows)


def _write_counters(model, ctx: Context, keys: set[tuple[int, dt.date]]) -> None:
    if not keys:
        return
    if not _is_postgres():
        for impl_id, day in keys:
            row, _ = model.objects.get_or_create(implementation_id=impl_id, date=day)
            if row.last < ctx.counters[(impl_id, day)]:
                model.objects.filter(pk=row.pk).update(last=ctx.counters[(impl_id, day)])
        return
    cur = _raw_cursor()
    table = model._meta.db_table
    cur.execute("CREATE TEMP TABLE bench_counters (implementation_id bigint, date date, last integer)")
    with cur.copy("COPY bench_counters FROM STDIN") as cp:
        for impl_id, day in keys:
            cp.write_row((impl_id, day, ctx.counters[(impl_id, day)]))
    cur.execute(
        f'INSERT INTO "{table}" (implementation_id, date, last) SELECT implementation_id, date, last '
        f"FROM bench_counters ON CONFLICT (implementation_id, date) DO UPDATE "
        f'SET last = GREATEST("{table}".last, EXCLUDED.last)'
    )
    cur.execute("DROP TABLE bench_counters")


#: Functions ``(ctx, app_rows, event_rows)`` adding rows of other apps to each generated batch
#: (inside the batch's transaction). The workflow / ledger extenders are appended when present.
EXTENDERS: list[Callable[[Context, list[dict], list[dict]], None]] = []


def refresh_summaries(log: Callable[[str], None]) -> float | None:
    """Supervision's daily summary tables, as its nightly job builds them (statistics read them)."""
    from django.apps import apps
    from django.core.management import call_command, get_commands

    if not apps.is_installed("tongban.supervision") or "refresh_supervision_stats" not in get_commands():
        return None

    started = time.perf_counter()
    call_command("refresh_supervision_stats", stdout=sys.stderr)
    took = round(time.perf_counter() - started, 1)
    log(f"  supervision summaries refreshed in {took} s")
    return took


def case_count() -> int:
    from tongban.cases.models import Application

    cur = _raw_cursor()
    cur.execute(f'SELECT COUNT(*) FROM "{Application._meta.db_table}"')
    return cur.fetchone()[0]


def grow_to(target: int, *, log: Callable[[str], None] = lambda s: None) -> dict:
    """Add synthetic cases until the database holds ``target`` cases; VACUUM ANALYZE after."""
    have = case_count()
    ctx = load_context()
    started = time.perf_counter()
    made = {"cases": 0, "events": 0}
    if target > have:
        made = generate(ctx, Plan(count=target - have, person_pool=max(200, target // 6)), log=log)
    samples = json.loads(SAMPLES_FILE.read_text()) if SAMPLES_FILE.exists() else {}
    for key, values in ctx.samples.items():
        samples[key] = (samples.get(key, []) + values)[-400:]
    SAMPLES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SAMPLES_FILE.write_text(json.dumps(samples, ensure_ascii=False))
    generated_s = time.perf_counter() - started
    summaries_s = refresh_summaries(log)
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    autocommit = raw.autocommit
    raw.autocommit = True
    raw.execute("VACUUM ANALYZE")
    raw.autocommit = autocommit
    return {
        "target": target,
        "cases": case_count(),
        "added": made,
        "generate_s": round(generated_s, 1),
        "summaries_s": summaries_s,
        "total_s": round(time.perf_counter() - started, 1),
    }


# ----------------------------------------------------------------------------- probes


def _client(user=None, *, otp: bool = False):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    if user is not None:
        client.force_login(user, backend="tongban.accounts.backends.PhoneOrUsernameBackend")
        if otp:
            from django_otp import DEVICE_ID_SESSION_KEY
            from django_otp.plugins.otp_totp.models import TOTPDevice

            device = TOTPDevice.objects.filter(
                user=user, confirmed=True
            ).first() or TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            session = client.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()
    return client


def _staff(username: str):
    from tongban.accounts.models import User

    return User.objects.filter(username=username).first()


def _samples() -> dict:
    return json.loads(SAMPLES_FILE.read_text()) if SAMPLES_FILE.exists() else {}


def _get_ok(client, url: str, **kw):
    response = client.get(url, **kw)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    return response


def probe_catalogue_search():
    """Uncached: each round starts a new catalogue generation, so the search runs its query and
    renders its results. (With the page cache, the first round of each of the 12 queries was a
    search and the others a cache read, and p95 fell on one or the other by chance.)"""
    from bench.catalogue import QUERIES
    from tongban.catalog.queries import PAGES

    client = _client()
    queries = iter(QUERIES * 1000)

    def run():
        PAGES.bump()
        return _get_ok(client, "/services/search/", data={"q": next(queries), "region": "341502"})

    return run


def probe_progress():
    samples = _samples().get("progress") or []
    if not samples:
        return None
    client = _client()
    counter = iter(range(10**9))

    def run():
        i = next(counter)
        number, id_number = samples[i % len(samples)]
        response = client.post(
            "/api/cases/progress",
            data=json.dumps({"case_number": number, "id_number": id_number}),
            content_type="application/json",
            REMOTE_ADDR=f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        )
        if response.status_code != 200:
            raise RuntimeError(f"progress: HTTP {response.status_code} {response.content[:200]!r}")

    return run


def probe_my_cases():
    from tongban.accounts.models import User

    owners = _samples().get("owners") or []
    users = list(User.objects.filter(pk__in=owners[:60]))
    if not users:
        return None
    clients = [_client(u) for u in users]
    counter = iter(range(10**9))
    return lambda: _get_ok(clients[next(counter) % len(clients)], "/cases/mine/")


def probe_case_full_process():
    """The staff page of one case with its whole history: supervision's case page (process,
    tasks, pauses, ledger verification) when present, else the acceptance review page."""
    cases = _samples().get("cases") or []
    supervisor_page = _url_or_none("supervision:case", 1)
    user = _staff("la-supervisor" if supervisor_page else "la-admin")
    if not cases or user is None:
        return None
    client = _client(user, otp=True)
    if FULL_PROCESS_URL:
        pattern = FULL_PROCESS_URL[0]
    elif supervisor_page:
        pattern = supervisor_page.replace("/1/", "/{pk}/")
    else:
        pattern = "/cases/workbench/{pk}/"
    counter = iter(range(10**9))
    return lambda: _get_ok(client, pattern.format(pk=cases[next(counter) % len(cases)]))


def probe_acceptance_queue():
    clerk = _staff("la-market-clerk")
    if clerk is None:
        return None
    client = _client(clerk, otp=True)
    return lambda: _get_ok(client, "/cases/workbench/")


def _url_or_none(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _supervisor_client():
    supervisor = _staff("la-supervisor")
    return _client(supervisor, otp=True) if supervisor is not None else None


def probe_supervision_dashboard():
    """The supervisor's dashboard (this month, lights) and the case list with filters."""
    dashboard = _url_or_none("supervision:dashboard")
    cases = _url_or_none("supervision:cases")
    client = _supervisor_client()
    if dashboard is None or cases is None or client is None:
        return None
    from tongban.core.models import Organisation, Region

    region = Region.objects.filter(code="341502").values_list("pk", flat=True).first()
    department = Organisation.objects.filter(region_id=region).values_list("pk", flat=True).first()
    requests = [
        (dashboard, {}),
        (cases, {"light": "red"}),
        (cases, {"region": region, "light": "yellow"}),
        (cases, {"department": department, "status": "all"}),
        (cases, {"channel": "online", "light": "green"}),
    ]
    counter = iter(range(10**9))

    def run():
        url, params = requests[next(counter) % len(requests)]
        return _get_ok(client, url, data=params)

    return run


def probe_statistics_quarter():
    url = _url_or_none("supervision:stats")
    client = _supervisor_client()
    if url is None or client is None:
        return None
    from django.utils import timezone

    today = timezone.localdate()  # the platform's date (Asia/Shanghai), as the page's default
    first_month = 3 * ((today.month - 1) // 3) + 1
    start = dt.date(today.year, first_month, 1)
    groups = ["department", "region", "item", "channel"]
    counter = iter(range(10**9))
    return lambda: _get_ok(
        client,
        url,
        data={"start": start.isoformat(), "end": today.isoformat(), "group_by": groups[next(counter) % 4]},
    )


#: When the workflow app provides a full-process page, its URL pattern goes here (``{pk}``).
FULL_PROCESS_URL: list[str] = []

#: (key, label, factory) — a factory returns a callable (one timed request) or None when the
#: capability does not exist yet ("not available").
PROBES: list[tuple[str, str, Callable]] = [
    ("supervision_dashboard", "supervision dashboard / case list with filters", probe_supervision_dashboard),
    ("statistics_quarter", "statistics for a quarter", probe_statistics_quarter),
    ("case_full_process", "a case's full-process page (staff)", probe_case_full_process),
    ("my_cases", "my cases (citizen)", probe_my_cases),
    ("progress_query", "progress query (case number + ID)", probe_progress),
    ("catalogue_search", "catalogue search", probe_catalogue_search),
    ("acceptance_queue", "acceptance queue (clerk, data scope)", probe_acceptance_queue),
]


def run_probes(rounds: int, *, log: Callable[[str], None] = lambda s: None) -> dict:
    """p95 of each probe. The process starts as a web worker does (tongban/wsgi.py: warm-up,
    ``gc.freeze()``) and freezes again after each probe's warm-up calls, as a worker does after
    its first requests; without that, full collections over the start-up heap (250–400 ms)
    landed in random samples."""
    from tongban.wsgi import freeze_heap

    out: dict[str, dict] = {}
    for key, label, factory in PROBES:
        try:
            fn = factory()
        except Exception as exc:  # a probe that cannot even be built is reported, not hidden
            out[key] = {"label": label, "available": False, "why": f"{type(exc).__name__}: {exc}"}
            continue
        if fn is None:
            out[key] = {"label": label, "available": False, "why": "capability not in this build"}
            continue
        samples = []
        try:
            for _ in range(3):
                fn()  # warm-up
            freeze_heap()  # as a web worker does after its warm-up requests (tongban/wsgi.py)
            for _ in range(rounds):
                started = time.perf_counter()
                fn()
                samples.append((time.perf_counter() - started) * 1000)
        except Exception as exc:  # a failing page is reported as such, with its error
            out[key] = {
                "label": label,
                "available": False,
                "why": f"failed: {type(exc).__name__}: {exc}"[:300],
            }
            log(f"  probe {key} failed: {exc}")
            continue
        samples.sort()
        out[key] = {
            "label": label,
            "available": True,
            "rounds": rounds,
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(percentile(samples, 95), 2),
            "max_ms": round(samples[-1], 2),
        }
        log(f"  probe {key}: p95 {out[key]['p95_ms']} ms")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--to", type=int, required=True)
    p = sub.add_parser("probe")
    p.add_argument("--rounds", type=int, default=60)
    args = parser.parse_args(argv)
    django_setup()
    _install_extensions()

    def log(s: str) -> None:
        print(s, file=sys.stderr, flush=True)

    if args.cmd == "generate":
        result = grow_to(args.to, log=log)
    else:
        result = {"cases": case_count(), "probes": run_probes(args.rounds, log=log)}
    print(json.dumps(result, ensure_ascii=False, default=str))


def _install_extensions() -> None:
    """Hook in generators/probes of apps that exist in this build (workflow, ledger …)."""
    try:
        from bench import extensions
    except ImportError:
        return
    extensions.install(sys.modules[__name__])


if __name__ == "__main__":
    main()
