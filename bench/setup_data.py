"""Accounts, items and pools the load generator needs, written into the bench database.

``python -m bench.setup_data --citizens 48 --accept-pool 4000 --progress-pool 1500`` (bench
environment) prints the fixture as JSON: citizens (phone + password, logged in by the load
generator through the login page), clerks (username, password, TOTP key: they log in through the
staff login page and the TOTP step, exactly as a clerk does), item "recipes" (situation answers,
form values and the key materials to upload, checked against the catalogue's own rules), the pool
of submitted applications for the clerks to accept and (case number, ID number) pairs for the
progress query. Idempotent for accounts; the pools are added every run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys

from bench.common import django_setup

PASSWORD = "Bench-2026-load-pass"
N_DEPARTMENTS = 4
ITEMS_PER_DEPARTMENT = 6
CLERKS_PER_DEPARTMENT = 2
#: Back office per department: approvers (审查/审核) and a head (决定); 送达 is the window clerk's.
APPROVERS = (("approver", 2), ("department_head", 1))
RUNNING_CASES = 600  # cases with open tasks handed to the approvers at the start
GUIDE_CODES = 120


def totp_key(username: str) -> str:
    return hashlib.sha1(f"tongban-bench-totp:{username}".encode()).hexdigest()


def bench_id_number(n: int) -> str:
    from tongban.core.identifiers import resident_id_check_char

    first17 = f"341502{1960 + n % 40}{(n % 12) + 1:02d}{(n % 27) + 1:02d}{900 + n % 100:03d}"
    return first17 + resident_id_check_char(first17)


def citizens(count: int) -> list:
    from tongban.accounts.models import Person, RealNameLevel, User

    out = []
    for n in range(count):
        username = f"bench-citizen-{n:03d}"
        phone = f"1370000{n:04d}"
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, display_name=f"压测群众{n}")
            user.set_password(PASSWORD)
            user.save()
        person = Person.objects.filter(user=user).first()
        if person is None:
            person = Person(user=user, name=f"压测群众{n}")
            person.set_phone(phone)
            person.set_id_number(bench_id_number(n))
            person.level = RealNameLevel.L2
            person.verification_method = "压测账号"
            person.save()
        out.append(person)
    return out


def recipe(version, person) -> dict | None:
    """Answers, form values and key materials under which a submission passes check_complete."""
    from tongban.cases.demo import _filled
    from tongban.cases.services import prefill
    from tongban.catalog.forms_schema import validate_submission
    from tongban.catalog.services import evaluate_situations

    class Draft:  # what cases.demo._filled reads
        pass

    answers = {q.key: q.options.all()[0].key for q in version.questions.prefetch_related("options")}
    try:
        guidance = evaluate_situations(version, answers)
        draft = Draft()
        draft.version = version
        draft.form_data = prefill(version, person)
        filled = _filled(draft)
        problems = list(validate_submission(version, {**draft.form_data, **filled}))
    except Exception:
        return None
    if problems or guidance.unanswered:
        return None
    materials = [m.pk for m in guidance.materials if m.source == m.Source.APPLICANT and m.is_key]
    if not 1 <= len(materials) <= 4:
        return None
    return {"answers": answers, "form_data": filled, "materials": materials}


def choose_items(person) -> list:
    from tongban.catalog.models import ItemImplementation

    eligible = (
        ItemImplementation.objects.filter(
            published_version__isnull=False, published_version__online_depth__gte=3
        )
        .select_related("published_version", "organisation", "basic_item")
        .order_by("organisation_id", "code")
    )
    by_department: dict[int, list] = {}
    for impl in eligible:
        group = by_department.setdefault(impl.organisation_id, [])
        if len(group) >= ITEMS_PER_DEPARTMENT:
            continue
        r = recipe(impl.published_version, person)
        if r is not None:
            group.append((impl, r))
    best = sorted(by_department.values(), key=len, reverse=True)[:N_DEPARTMENTS]
    return [pair for group in best for pair in group]


def clerks(departments) -> list[dict]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import services
    from tongban.accounts.models import Role, StaffProfile

    out = []
    for org in departments:
        for k in range(CLERKS_PER_DEPARTMENT):
            username = f"bench-clerk-{org.pk}-{k}"
            profile = StaffProfile.objects.filter(user__username=username).first()
            if profile is None:
                profile = services.create_staff(
                    username=username,
                    name=f"压测受理员{org.pk}-{k}",
                    department=org,
                    region=org.region,
                    roles=[Role.WINDOW_CLERK],
                    password=PASSWORD,
                    title="压测账号",
                )
            TOTPDevice.objects.update_or_create(
                user=profile.user, name="压测令牌", defaults={"key": totp_key(username), "confirmed": True}
            )
            out.append(
                {
                    "username": username,
                    "password": PASSWORD,
                    "totp_key": totp_key(username),
                    "department": org.pk,
                }
            )
    return out


def approvers(departments) -> list[dict]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from tongban.accounts import services
    from tongban.accounts.models import StaffProfile

    out = []
    for org in departments:
        for role, count in APPROVERS:
            for k in range(count):
                username = f"bench-{role.replace('_', '-')}-{org.pk}-{k}"
                profile = StaffProfile.objects.filter(user__username=username).first()
                if profile is None:
                    profile = services.create_staff(
                        username=username,
                        name=f"压测审批{org.pk}-{k}",
                        department=org,
                        region=org.region,
                        roles=[role],
                        password=PASSWORD,
                        title="压测账号",
                    )
                TOTPDevice.objects.update_or_create(
                    user=profile.user,
                    name="压测令牌",
                    defaults={"key": totp_key(username), "confirmed": True},
                )
                out.append(
                    {
                        "username": username,
                        "password": PASSWORD,
                        "totp_key": totp_key(username),
                        "department": org.pk,
                        "role": role,
                    }
                )
    return out


def running_cases() -> list:
    """Bench cases with a running process and an open (unclaimed) task, generated with their
    history, so approvers have work from the first second of the load."""
    import random

    from tongban.workflow.models import Task

    found = dict(
        Task.objects.filter(
            status="open",
            application__owner__username__startswith="bench-citizen-",
            application__status__in=["in_progress", "decided"],
        ).values_list("application_id", "application__department_id")
    )
    picked = random.Random(7).sample(sorted(found), min(RUNNING_CASES, len(found)))
    return [[pk, found[pk]] for pk in picked]


def ledger_backfill() -> int:
    """Chain links for the generated events (the ledger links events recorded through the
    services; bulk-generated ones are backfilled as the ledger's own command does)."""
    from django.apps import apps

    if not apps.is_installed("tongban.ledger"):
        return 0
    from tongban.ledger.services import backfill, commit_now

    created = backfill(chunk_size=2000)
    commit_now()
    return created


def seed_pools(people, pairs, accept_pool: int, progress_pool: int) -> tuple[list, list]:
    from bench import scale
    from tongban.cases.models import Application

    ctx = scale.load_context()
    persons = [
        scale.Person(
            0,
            p.name,
            p.id_number,
            p.id_index,
            Application._meta.get_field("applicant_id_number").get_prep_value(p.id_number),
            Application._meta.get_field("applicant_phone").get_prep_value(p.phone),
            p.user_id,
        )
        for p in people
    ]
    by_id = {i.id: i for i in ctx.items}
    items = [by_id[impl.pk] for impl, _ in pairs if impl.pk in by_id]
    first_new = scale._next_id(Application._meta.db_table)
    if accept_pool:
        scale.generate(
            ctx,
            scale.Plan(
                count=accept_pool,
                fixed_status="submitted",
                days_back_max=0,
                items=items,
                persons=persons,
                channel="online",
            ),
        )
    if progress_pool:
        scale.generate(
            ctx,
            scale.Plan(
                count=progress_pool,
                fixed_status="accepted",
                days_back_max=60,
                items=items,
                persons=persons,
                channel="online",
            ),
        )
    numbers = {p.user_id: p.id_number for p in people}
    pool = list(
        Application.objects.filter(pk__gte=first_new, status="submitted").values_list("pk", "department_id")
    )
    progress = [
        [number, numbers[owner]]
        for number, owner in Application.objects.filter(pk__gte=first_new, status="accepted").values_list(
            "case_number", "owner_id"
        )
    ]
    return pool, progress


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, default=48)
    parser.add_argument("--accept-pool", type=int, default=4000)
    parser.add_argument("--progress-pool", type=int, default=1500)
    args = parser.parse_args(argv)
    django_setup()
    from tongban.catalog.models import ItemImplementation

    people = citizens(args.citizens)
    pairs = choose_items(people[0])
    if not pairs:
        raise SystemExit("no catalogue item can be applied for online with a complete recipe")
    departments = {impl.organisation_id: impl.organisation for impl, _ in pairs}
    staff = clerks(departments.values())
    back_office = approvers(departments.values())
    pool, progress = seed_pools(people, pairs, args.accept_pool, args.progress_pool)
    chained = ledger_backfill()
    running = running_cases()
    guides = list(
        ItemImplementation.objects.filter(published_version__isnull=False)
        .order_by("?")
        .values_list("code", flat=True)[:GUIDE_CODES]
    )
    fixture = {
        "citizens": [{"phone": p.phone, "password": PASSWORD, "user_id": p.user_id} for p in people],
        "clerks": staff,
        "approvers": back_office,
        "running_cases": running,
        "items": [
            {"code": impl.code, "department": impl.organisation_id, "name": impl.basic_item.name, **r}
            for impl, r in pairs
        ],
        "accept_pool": pool,
        "progress": progress,
        "guides": guides,
    }
    print(
        f"setup: {len(people)} citizens, {len(staff)} clerks, {len(pairs)} items in "
        f"{len(departments)} departments, {len(pool)} submitted to accept, {len(running)} running, "
        f"{len(progress)} progress pairs, {chained} ledger links backfilled",
        file=sys.stderr,
    )
    print(json.dumps(fixture, ensure_ascii=False))


if __name__ == "__main__":
    main()
