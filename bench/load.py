"""Load generator: an asyncio httpx client in its own process (no Django in here).

::

    python -m bench.load login  --fixture F --out SESSIONS          # citizens + clerks log in
    python -m bench.load run    --fixture F --sessions SESSIONS --phase mixed --duration 40 \
                                --concurrency 16 --pool POOL --out RESULT

Citizens log in through the login page (password); clerks through the staff login page and the
TOTP step (the code computed from the clerk's key, as an authenticator app would). Each logged-in
session is then used like a browser: session cookie, CSRF token header, ``X-Forwarded-Proto:
https`` as sent by the TLS-terminating proxy in production.

A phase runs ``--concurrency`` virtual users in a closed loop for ``--duration`` seconds; each
iteration picks a scenario kind by the phase's weights. Every request is timed with
``time.perf_counter`` and counted per kind and per step; an unexpected status or an exception is
an error. Scenario kinds are small functions registered in ``SCENARIOS`` (pluggable).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import random
import re
import resource
import struct
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bench.catalogue import QUERIES as EVERYDAY_QUERIES
from bench.common import BASE_URL, HOST, PORT, percentile

ORIGIN = f"https://{HOST}:{PORT}"
# The catalogue micro-benchmark's everyday queries plus a few item names people type as such.
QUERIES = [*EVERYDAY_QUERIES, "食品经营许可", "身份证", "社保卡", "医保报销"]
REGIONS = ["", "341502", "341503", "341500", "341522"]
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')

#: Weights per phase: scenario kind → relative frequency of an iteration.
PHASES: dict[str, dict[str, float]] = {
    "trivial": {"trivial": 1},
    "mixed": {
        "search": 35,
        "guide": 30,
        "progress": 15,
        "submission": 5,
        "acceptance": 6,
        "task_completion": 8,
    },
    "submissions": {"submission": 1},
    "acceptances": {"acceptance": 1},
    "task_completions": {"task_completion": 1},
}


# ----------------------------------------------------------------------------- helpers


def totp(key_hex: str, at: float | None = None, step_offset: int = 0) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits) — what django-otp's TOTPDevice verifies."""
    counter = int((at or time.time()) // 30) + step_offset
    digest = hmac.new(bytes.fromhex(key_hex), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def small_pdf(size: int, rng: random.Random) -> bytes:
    """A small scanned-document stand-in: a PDF header (the server decides the type by content)."""
    body = base64.b64encode(rng.randbytes(size * 3 // 4))
    return (
        b"%PDF-1.4\n% bench scan\n1 0 obj<< /Length "
        + str(len(body)).encode()
        + b" >>stream\n"
        + (body + b"\nendstream endobj\ntrailer<<>>\n%%EOF\n")
    )


@dataclass
class Session:
    """One logged-in identity: its cookies (kept by hand: the cookies are Secure and the proxy
    in front is simulated, so httpx's jar would not send them over plain HTTP)."""

    who: str
    cookies: dict[str, str] = field(default_factory=dict)
    department: int | None = None

    def header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def absorb(self, response: httpx.Response) -> None:
        for raw in response.headers.get_list("set-cookie"):
            pair, _, attrs = raw.partition(";")
            name, _, value = pair.strip().partition("=")
            if "max-age=0" in attrs.lower() or value in ('""', ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []
        self.flows: dict[str, int] = defaultdict(int)

    def add(self, label: str, ms: float, ok: bool, detail: str = "") -> None:
        self.samples[label].append(ms)
        if not ok:
            self.errors[label] += 1
            if len(self.error_samples) < 12:
                self.error_samples.append(f"{label}: {detail}"[:400])


class Load:
    def __init__(
        self,
        fixture: dict,
        sessions: dict,
        pool: list,
        concurrency: int,
        seed: int = 1,
        cases: list | None = None,
    ) -> None:
        self.fixture = fixture
        self.rng = random.Random(seed)
        self.rec = Recorder()
        limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
        self.client = httpx.AsyncClient(
            base_url=BASE_URL,
            limits=limits,
            timeout=httpx.Timeout(60.0),
            headers={"X-Forwarded-Proto": "https", "Referer": ORIGIN + "/"},
        )
        self.citizens = [Session(**s) for s in sessions.get("citizens", [])]
        self.clerks: dict[int, list[Session]] = defaultdict(list)
        for s in sessions.get("clerks", []):
            self.clerks[s["department"]].append(Session(**s))
        # Approvers by (department, stage role): approver (审查/审核), department_head (决定).
        self.approvers: dict[tuple[int, str], list[Session]] = defaultdict(list)
        for s in sessions.get("approvers", []):
            self.approvers[(s["department"], s["role"])].append(
                Session(who=s["who"], cookies=s["cookies"], department=s["department"])
            )
        self.queues: dict[int, list[int]] = defaultdict(list)
        for app_id, department in pool:
            self.queues[department].append(app_id)
        for q in self.queues.values():
            self.rng.shuffle(q)
        # Cases in the back office (accepted, process running): their next task to complete.
        self.cases: dict[int, list[int]] = defaultdict(list)
        for app_id, department in cases or []:
            self.cases[department].append(app_id)
        self.completed: list[int] = []
        self.task_done: list[int] = []
        self.submitted: list[int] = []
        self.accepted: list[int] = []
        self.pdfs = [small_pdf(self.rng.randrange(20_000, 80_000), self.rng) for _ in range(8)]
        self.progress_slot = [None, 0, 0]  # client, uses, address counter
        self.retired: list[httpx.AsyncClient] = []  # closed at the end: a request may still be on one
        self.address_base = (os.getpid() * 7919 + int(time.time())) % 200

    async def close(self) -> None:
        await self.client.aclose()
        for client in [*self.retired, self.progress_slot[0]]:
            if client is not None:
                await client.aclose()

    async def request(
        self,
        label: str,
        method: str,
        url: str,
        *,
        session: Session | None = None,
        expect: tuple[int, ...] = (200,),
        client: httpx.AsyncClient | None = None,
        **kw,
    ) -> httpx.Response | None:
        headers = kw.pop("headers", {})
        if session is not None:
            headers["Cookie"] = session.header()
            if method != "GET" and "csrftoken" in session.cookies:
                headers["X-CSRFToken"] = session.cookies["csrftoken"]
        started = time.perf_counter()
        try:
            response = await (client or self.client).request(method, url, headers=headers, **kw)
        except Exception as exc:
            self.rec.add(label, (time.perf_counter() - started) * 1000, False, f"{type(exc).__name__}: {exc}")
            return None
        ms = (time.perf_counter() - started) * 1000
        (client or self.client).cookies.clear()
        ok = response.status_code in expect
        self.rec.add(label, ms, ok, f"{method} {url} → {response.status_code} {response.text[:200]}")
        if session is not None:
            session.absorb(response)
        return response if ok else None


# ----------------------------------------------------------------------------- login


async def login_citizen(load: Load, citizen: dict) -> Session:
    s = Session(who=citizen["phone"])
    page = await load.request("login.page", "GET", "/accounts/login/", session=s)
    token = CSRF_RE.search(page.content).group(1).decode()
    data = {"tab": "password", "username": citizen["phone"], "password": citizen["password"]}
    await load.request(
        "login.citizen",
        "POST",
        "/accounts/login/",
        session=s,
        data={**data, "csrfmiddlewaretoken": token},
        expect=(302,),
    )
    if "sessionid" not in s.cookies:
        raise RuntimeError(f"citizen {citizen['phone']} did not get a session")
    return s


async def login_clerk(load: Load, clerk: dict) -> Session:
    s = Session(who=clerk["username"], department=clerk["department"])
    page = await load.request("login.page", "GET", "/accounts/staff/login/", session=s)
    token = CSRF_RE.search(page.content).group(1).decode()
    await load.request(
        "login.staff_password",
        "POST",
        "/accounts/staff/login/",
        session=s,
        data={"username": clerk["username"], "password": clerk["password"], "csrfmiddlewaretoken": token},
        expect=(302,),
    )
    for attempt in range(4):
        page = await load.request("login.otp_page", "GET", "/accounts/staff/otp/", session=s)
        token = CSRF_RE.search(page.content).group(1).decode()
        # The current code, else the next one (django-otp accepts one step of drift and refuses a
        # step already used — a second login of the same clerk within 30 s).
        for offset in (0, 1):
            response = await load.request(
                "login.staff_totp",
                "POST",
                "/accounts/staff/otp/",
                session=s,
                data={"token": totp(clerk["totp_key"], step_offset=offset), "csrfmiddlewaretoken": token},
                expect=(302, 200),
            )
            if response is not None and response.status_code == 302:
                return s
        await asyncio.sleep(31 if attempt < 3 else 0)
    raise RuntimeError(f"clerk {clerk['username']} could not pass the TOTP step")


async def do_login(fixture: dict) -> dict:
    load = Load(fixture, {}, [], concurrency=8)
    try:
        citizens = []
        for chunk in range(0, len(fixture["citizens"]), 8):
            citizens += await asyncio.gather(
                *(login_citizen(load, c) for c in fixture["citizens"][chunk : chunk + 8])
            )
        clerks = await asyncio.gather(*(login_clerk(load, c) for c in fixture["clerks"]))
        approvers = await asyncio.gather(*(login_clerk(load, c) for c in fixture.get("approvers", [])))
    finally:
        await load.close()
    return {
        "citizens": [{"who": s.who, "cookies": s.cookies} for s in citizens],
        "clerks": [{"who": s.who, "cookies": s.cookies, "department": s.department} for s in clerks],
        "approvers": [
            {"who": s.who, "cookies": s.cookies, "department": s.department, "role": c["role"]}
            for s, c in zip(approvers, fixture.get("approvers", []), strict=True)
        ],
        "login": summarise(load.rec, 1.0)["kinds"],
    }


# ----------------------------------------------------------------------------- scenarios


async def sc_trivial(load: Load) -> None:
    await load.request("trivial", "GET", "/healthz")


async def sc_search(load: Load) -> None:
    params = {"q": load.rng.choice(QUERIES)}
    region = load.rng.choice(REGIONS)
    if region:
        params["region"] = region
    await load.request("search", "GET", "/services/search/", params=params)


async def sc_guide(load: Load) -> None:
    await load.request("guide", "GET", f"/services/{load.rng.choice(load.fixture['guides'])}/")


def progress_address(base: int, counter: int) -> str:
    """The ``counter``-th source address of a load process (distinct for 32 768 of them: a full
    run's mixed phase needs a few hundred; an address used twice is refused after ten queries)."""
    return f"127.{1 + base}.{(counter >> 7) & 255}.{1 + (counter & 127)}"


async def _progress_client(load: Load) -> httpx.AsyncClient:
    """A client of its own source address (127.x.y.z) for every nine queries: the progress query
    is limited to ten an hour per address, and the public come from many addresses."""
    client, uses, counter = load.progress_slot
    if client is None or uses >= 9:
        if client is not None:
            load.retired.append(client)
        counter += 1
        address = progress_address(load.address_base, counter)
        client = httpx.AsyncClient(
            base_url=BASE_URL,
            transport=httpx.AsyncHTTPTransport(local_address=address),
            headers={"X-Forwarded-Proto": "https"},
            timeout=httpx.Timeout(60.0),
        )
        uses = 0
    load.progress_slot = [client, uses + 1, counter]
    return client


async def sc_progress(load: Load) -> None:
    number, id_number = load.rng.choice(load.fixture["progress"])
    miss = load.rng.random() < 0.1  # a mistyped ID number: "not found" is the right answer
    if miss:
        id_number = id_number[:-4] + "0000"
    await load.request(
        "progress",
        "POST",
        "/api/cases/progress",
        json={"case_number": number, "id_number": id_number},
        expect=(404,) if miss else (200,),
        client=await _progress_client(load),
    )


async def sc_submission(load: Load) -> None:
    """Create the application, upload the key materials (small PDFs), submit."""
    s = load.rng.choice(load.citizens)
    item = load.rng.choice(load.fixture["items"])
    key = f"bench-{os.getpid()}-{load.rng.getrandbits(48):x}"
    r = await load.request(
        "submission.create",
        "POST",
        "/api/cases/applications",
        session=s,
        json={
            "item_code": item["code"],
            "answers": item["answers"],
            "form_data": item["form_data"],
            "idempotency_key": key,
        },
        expect=(201,),
    )
    if r is None:
        return
    app_id = r.json()["id"]
    for material in item["materials"]:
        pdf = load.rng.choice(load.pdfs)
        r = await load.request(
            "submission.upload",
            "POST",
            f"/api/cases/applications/{app_id}/materials/{material}",
            session=s,
            files={"file": ("扫描件.pdf", pdf, "application/pdf")},
        )
        if r is None:
            return
    r = await load.request("submission.submit", "POST", f"/api/cases/applications/{app_id}/submit", session=s)
    if r is not None and r.json().get("status") == "submitted":
        load.submitted.append(app_id)
        load.queues[item["department"]].append(app_id)
        load.rec.flows["submission"] += 1


async def sc_acceptance(load: Load) -> None:
    departments = [d for d, q in load.queues.items() if q and load.clerks.get(d)]
    if not departments:
        load.rec.flows["acceptance.starved"] += 1
        await asyncio.sleep(0.05)
        return
    department = load.rng.choice(departments)
    app_id = load.queues[department].pop()
    s = load.rng.choice(load.clerks[department])
    r = await load.request("acceptance", "POST", f"/api/cases/applications/{app_id}/accept", session=s)
    if r is not None:
        load.accepted.append(app_id)
        load.rec.flows["acceptance"] += 1
        if r.json().get("status") in ("in_progress", "accepted"):
            load.cases[department].append(app_id)


STAGE_ROLE = {"review": "approver", "audit": "approver", "joint": "approver", "decide": "department_head"}


async def sc_task_completion(load: Load) -> None:
    """An approver opens a case's process, signs for its open task (签收) and completes it
    (同意; 决定 with an opinion; 送达 electronically by the window clerk)."""
    departments = [d for d, q in load.cases.items() if q]
    if not departments:
        load.rec.flows["task_completion.starved"] += 1
        await asyncio.sleep(0.05)
        return
    department = load.rng.choice(departments)
    queue = load.cases[department]
    app_id = queue.pop(load.rng.randrange(len(queue)))
    viewer = load.rng.choice(load.approvers.get((department, "approver")) or load.clerks[department])
    r = await load.request("task_completion.view", "GET", f"/api/workflow/cases/{app_id}", session=viewer)
    if r is None:
        return
    process = r.json()
    tasks = [t for t in process["tasks"] if t["status"] in ("open", "claimed")]
    if not tasks:
        if process["status"] != "completed":
            load.rec.flows["task_completion.no_open_task"] += 1
        return
    task = tasks[0]
    if task["status"] == "claimed":
        # Signed for by a colleague (generated history): only they may complete it; the
        # approver moves on to the next case, as in the queue.
        load.rec.flows["task_completion.claimed_by_colleague"] += 1
        return
    role = STAGE_ROLE.get(task["stage"])
    sessions = load.approvers.get((department, role)) if role else load.clerks.get(department)
    s = load.rng.choice(sessions or [viewer])
    if task["status"] == "open":
        r = await load.request(
            "task_completion.claim", "POST", f"/api/workflow/tasks/{task['id']}/claim", session=s
        )
        if r is None:
            return
    payload = {"outcome": "approve", "opinion": "经审查，申请材料齐全，符合法定条件，同意。"}
    if task["stage"] == "deliver":
        payload["handover"] = "electronic"
    r = await load.request(
        "task_completion.complete",
        "POST",
        f"/api/workflow/tasks/{task['id']}/complete",
        session=s,
        json=payload,
    )
    if r is None:
        return
    load.task_done.append(task["id"])
    load.rec.flows["task_completion"] += 1
    if task["stage"] == "deliver":
        load.completed.append(app_id)
    else:
        queue.append(app_id)


Scenario = Callable[[Load], Awaitable[None]]
#: Scenario kinds (pluggable: bench/extensions.py may add more for apps that exist).
SCENARIOS: dict[str, Scenario] = {
    "trivial": sc_trivial,
    "search": sc_search,
    "guide": sc_guide,
    "progress": sc_progress,
    "submission": sc_submission,
    "acceptance": sc_acceptance,
    "task_completion": sc_task_completion,
}


# ----------------------------------------------------------------------------- running a phase


async def run_phase(load: Load, weights: dict[str, float], duration: float, concurrency: int) -> float:
    kinds = [k for k in weights if k in SCENARIOS]
    w = [weights[k] for k in kinds]
    deadline = time.perf_counter() + duration

    async def user(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < deadline:
            await SCENARIOS[rng.choices(kinds, weights=w)[0]](load)

    started = time.perf_counter()
    await asyncio.gather(*(user(n) for n in range(concurrency)))
    return time.perf_counter() - started


def _stats(samples: list[float], errors: int, elapsed: float) -> dict:
    s = sorted(samples)
    return {
        "requests": len(s),
        "errors": errors,
        "rps": round(len(s) / elapsed, 1),
        "p50_ms": round(percentile(s, 50), 2),
        "p95_ms": round(percentile(s, 95), 2),
        "p99_ms": round(percentile(s, 99), 2),
        "max_ms": round(s[-1], 2) if s else 0,
    }


def summarise(rec: Recorder, elapsed: float) -> dict:
    steps = {label: _stats(v, rec.errors.get(label, 0), elapsed) for label, v in sorted(rec.samples.items())}
    kinds: dict[str, list[float]] = defaultdict(list)
    kind_errors: dict[str, int] = defaultdict(int)
    for label, values in rec.samples.items():
        kinds[label.split(".")[0]] += values
        kind_errors[label.split(".")[0]] += rec.errors.get(label, 0)
    everything = [v for values in rec.samples.values() for v in values]
    return {
        "elapsed_s": round(elapsed, 2),
        "total": _stats(everything, sum(rec.errors.values()), elapsed),
        "kinds": {k: _stats(v, kind_errors[k], elapsed) for k, v in sorted(kinds.items())},
        "steps": steps,
        "flows": {k: {"count": v, "per_s": round(v / elapsed, 2)} for k, v in rec.flows.items()},
        "error_samples": rec.error_samples,
    }


def merge(results: list[dict]) -> dict:
    """One result from load processes that ran side by side (each with ``--keep-samples``):
    requests and flows add up over the longest elapsed time, percentiles come from all samples."""
    rec = Recorder()
    for r in results:
        for label, values in r["samples"].items():
            rec.samples[label] += values
        for label, n in r["sample_errors"].items():
            rec.errors[label] += n
        for flow, f in r["flows"].items():
            rec.flows[flow] += f["count"]
        rec.error_samples += r["error_samples"]
    out = summarise(rec, max(r["elapsed_s"] for r in results))
    out.update(
        {k: v for k, v in results[0].items() if k not in out and k not in ("samples", "sample_errors")},
        client_cpu_s=round(sum(r["client_cpu_s"] for r in results), 2),
        processes=len(results),
    )
    for key in ("submitted_ids", "accepted_ids", "pool_left", "cases_left", "completed_ids", "task_ids"):
        out[key] = [x for r in results for x in r.get(key, [])]
    return out


async def do_run(args, fixture: dict, sessions: dict, pool: list) -> dict:
    weights = json.loads(args.weights) if args.weights else PHASES[args.phase]
    cases = []
    if args.cases:
        with open(args.cases, encoding="utf-8") as fh:
            cases = json.load(fh)
    load = Load(fixture, sessions, pool, args.concurrency, seed=args.seed, cases=cases)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        elapsed = await run_phase(load, weights, args.duration, args.concurrency)
    finally:
        await load.close()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    out = summarise(load.rec, elapsed)
    out.update(
        phase=args.phase,
        weights=weights,
        concurrency=args.concurrency,
        client_cpu_s=round((cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime), 2),
        submitted_ids=load.submitted,
        accepted_ids=load.accepted,
        pool_left=[[a, d] for d, q in load.queues.items() for a in q],
        cases_left=[[a, d] for d, q in load.cases.items() for a in q],
        completed_ids=load.completed,
        task_ids=load.task_done,
    )
    if args.keep_samples:
        out.update(samples=dict(load.rec.samples), sample_errors=dict(load.rec.errors))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cmd", choices=["login", "run"])
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--sessions")
    parser.add_argument("--pool")
    parser.add_argument("--cases", help="JSON [[application id, department id]] with a running process")
    parser.add_argument("--phase", default="mixed")
    parser.add_argument("--weights", help="JSON {kind: weight}, overrides the phase's")
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep-samples", action="store_true", help="every latency, for merge()")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    _install_extensions()
    with open(args.fixture, encoding="utf-8") as fh:
        fixture = json.load(fh)
    if args.cmd == "login":
        result = asyncio.run(do_login(fixture))
    else:
        with open(args.sessions, encoding="utf-8") as fh:
            sessions = json.load(fh)
        pool = []
        if args.pool:
            with open(args.pool, encoding="utf-8") as fh:
                pool = json.load(fh)
        result = asyncio.run(do_run(args, fixture, sessions, pool))
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, ensure_ascii=False)
    print(json.dumps({"ok": True, "out": args.out}))


def _install_extensions() -> None:
    try:
        from bench import extensions
    except ImportError:
        return
    extensions.install(sys.modules[__name__])


if __name__ == "__main__":
    main()
