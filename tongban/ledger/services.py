"""办件存证 rules: append on every case event, periodic Merkle commits, verification.

- ``append_many(events)`` runs inside the state change's transaction (receiver of
  ``tongban.cases.hooks.case_events_recorded``). It serialises appends of one case by locking that
  case's Application row (most callers hold the lock already); there is no global lock. Cost:
  three statements per case (lock, read the previous link, insert all its new links), however
  many events a state change wrote.
- ``commit_now()`` (periodic task, every 10 minutes) puts the head of every chain that grew since
  the previous commit into a Merkle tree; the commit's root binds the previous commit's root.
- ``verify_case(app)`` / ``verify_store()`` recompute everything and name what was changed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.core.exceptions import ObjectDoesNotExist
from django.db import connection, transaction
from django.utils import timezone

from tongban.cases.models import EVENT_LABELS, Application, CaseEvent
from tongban.ledger import merkle
from tongban.ledger.hashing import GENESIS, link_hash
from tongban.ledger.models import ChainLink, MerkleCommit, MerkleLeaf

log = logging.getLogger(__name__)

#: What each problem code means (shown to the public, staff and in the command's output).
PROBLEMS = {
    "content-changed": "记录内容与存证哈希不符（内容或哈希被改动）",
    "event-deleted": "过程记录已被删除（存证链中仍有这一环）",
    "link-missing": "存证链缺少链环（链环被删除）",
    "chain-broken": "上一环哈希不符，链条断裂",
    "not-chained": "过程记录不在存证链中（可能是绕过系统写入的）",
    "head-mismatch": "链头与默克尔提交中记录的不符（提交后整条链被改写）",
    "truncated": "默克尔提交时已存在的链环现已不存在（记录被删除）",
    "proof-invalid": "默克尔包含证明与提交树根不符",
    "commit-invalid": "默克尔提交被改动或提交链断裂",
    "case-deleted": "办件已被删除，但存证链仍在",
}


def action_label(action: str) -> str:
    """Chinese name of an event action (one registry for every app: cases.models.EVENT_LABELS)."""
    return EVENT_LABELS.get(action, action)


# ---------------------------------------------------------------- append


def _append_sql(rows: int) -> tuple[str | None, str, str]:
    """The statements of an append of ``rows`` links to one case, written once (the ORM's query
    building would cost more than the statements themselves on this path).

    The lock must be its own statement: under READ COMMITTED a statement that waits for a row
    lock still reads the other tables as of its start, so a combined "lock and read the previous
    link" would miss a link committed while it waited.
    """
    qn = connection.ops.quote_name
    app_table, link_table = qn(Application._meta.db_table), qn(ChainLink._meta.db_table)
    # SQLite has no row locks: its write lock is taken at BEGIN IMMEDIATE (settings), which
    # serialises appends anyway.
    lock = (
        f"SELECT id FROM {app_table} WHERE id = %s FOR UPDATE"
        if connection.features.has_select_for_update
        else None
    )
    previous = f"SELECT seq, hash FROM {link_table} WHERE application_id = %s ORDER BY seq DESC LIMIT 1"
    insert = (
        f"INSERT INTO {link_table} (event_id, application_id, seq, prev_hash, hash, created_at) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s)"] * rows)
    )
    return lock, previous, insert


def append(event: CaseEvent) -> tuple[int, str]:
    """Append ``event`` to its case's chain (inside the caller's transaction, if any); its
    link's (seq, hash)."""
    return append_many([event])[0]


def append_many(events: Iterable[CaseEvent]) -> list[tuple[int, str]]:
    """Append saved ``events``, in order, to their cases' chains (inside the caller's
    transaction, if any). Returns each link's (seq, hash).

    Three statements per case, however many of its events come at once: lock the case row
    (per-case lock: appends to one case queue there, other cases never wait), read the previous
    link, insert the new links in one statement.
    """
    events = list(events)
    by_case: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in events:
        by_case[event.application_id].append(event)
    links: dict[int, tuple[int, str]] = {}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        for app_id, case_events in by_case.items():
            lock, previous_sql, insert = _append_sql(len(case_events))
            if lock:
                cursor.execute(lock, [app_id])
            cursor.execute(previous_sql, [app_id])
            previous = cursor.fetchone()
            seq, prev_hash = previous if previous else (0, GENESIS)
            params: list[Any] = []
            for event in case_events:
                seq, digest = seq + 1, link_hash(prev_hash, event)
                params += [event.pk, app_id, seq, prev_hash, digest, now]
                links[event.pk] = (seq, digest)
                prev_hash = digest
            cursor.execute(insert, params)
    return [links[event.pk] for event in events]


def backfill(*, chunk_size: int = 500, stdout=None, models: dict[str, Any] | None = None) -> int:
    """Chain the events that have no link yet (databases from before the ledger), in id order.

    Only events newer than their chain's head are appended: an unchained event *older* than the
    head was written behind the application's back and is left for verification to report.
    Idempotent. ``models`` lets the data migration pass its historical models.
    """
    models = models or {}
    event_model = models.get("CaseEvent", CaseEvent)
    link_model = models.get("ChainLink", ChainLink)
    app_model = models.get("Application", Application)
    unchained = event_model.objects.filter(chain_link__isnull=True)
    created = skipped = 0
    after = 0
    while True:
        ids = list(
            unchained.filter(application_id__gt=after)
            .order_by("application_id")
            .values_list("application_id", flat=True)
            .distinct()[:chunk_size]
        )
        if not ids:
            break
        after = ids[-1]
        with transaction.atomic():
            list(app_model.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
            heads: dict[int, tuple[int, str, int]] = {}
            for app_id, seq, hash_, event_id in (
                link_model.objects.filter(application_id__in=ids)
                .order_by("application_id", "seq")
                .values_list("application_id", "seq", "hash", "event_id")
            ):
                newest = max(event_id, heads[app_id][2]) if app_id in heads else event_id
                heads[app_id] = (seq, hash_, newest)
            new = []
            for event in unchained.filter(application_id__in=ids).order_by("application_id", "id"):
                seq, prev_hash, newest = heads.get(event.application_id, (0, GENESIS, 0))
                if event.pk < newest:
                    skipped += 1
                    continue
                digest = link_hash(prev_hash, event)
                new.append(
                    link_model(
                        event_id=event.pk,
                        application_id=event.application_id,
                        seq=seq + 1,
                        prev_hash=prev_hash,
                        hash=digest,
                    )
                )
                heads[event.application_id] = (seq + 1, digest, event.pk)
            link_model.objects.bulk_create(new, batch_size=chunk_size)
            created += len(new)
        if stdout is not None:
            stdout.write(f"已补建 {created} 条存证链环……")
    if stdout is not None and skipped:
        stdout.write(f"有 {skipped} 条过程记录早于其链头、未补建（请运行 verify_ledger 查看）。")
    return created


# ---------------------------------------------------------------- Merkle commits


#: PostgreSQL advisory lock key of the commit step (only commits queue on it, never appends).
COMMIT_LOCK_KEY = 0x6C6564676572  # "ledger"


def _lock_commits() -> None:
    """One commit at a time (two workers could run the periodic task at once)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [COMMIT_LOCK_KEY])
    else:  # SQLite takes the database write lock at BEGIN IMMEDIATE; others lock the last commit
        list(MerkleCommit.objects.select_for_update().order_by("-number").values_list("pk")[:1])


def commit_now(*, chunk_size: int = 1000) -> MerkleCommit | None:
    """Commit the heads of the chains that grew since the previous commit; None if none did."""
    with transaction.atomic():
        _lock_commits()
        last = MerkleCommit.objects.order_by("-number").first()
        heads: dict[int, tuple[int, str]] = {}
        link_ids: list[int] = []
        rows = (
            ChainLink.objects.filter(committed_in__isnull=True)
            .order_by("application_id", "seq")
            .values_list("id", "application_id", "seq", "hash")
        )
        for pk, app_id, seq, hash_ in rows.iterator(chunk_size=chunk_size):
            heads[app_id] = (seq, hash_)
            link_ids.append(pk)
        if not heads:
            return None
        ordered = sorted(heads.items())
        leaves = [merkle.leaf_hash(merkle.leaf_data(app_id, seq, h)) for app_id, (seq, h) in ordered]
        tree_root, proofs = merkle.tree_with_proofs(leaves)
        number = last.number + 1 if last else 1
        prev_root = last.root if last else GENESIS
        commit = MerkleCommit.objects.create(
            number=number,
            tree_root=tree_root.hex(),
            prev_root=prev_root,
            root=merkle.commit_root(number, len(leaves), prev_root, tree_root.hex()),
            leaf_count=len(leaves),
        )
        MerkleLeaf.objects.bulk_create(
            (
                MerkleLeaf(
                    commit=commit,
                    application_id=app_id,
                    seq=seq,
                    head_hash=h,
                    position=position,
                    proof=[p.hex() for p in proofs[position]],
                )
                for position, (app_id, (seq, h)) in enumerate(ordered)
            ),
            batch_size=chunk_size,
        )
        for start in range(0, len(link_ids), chunk_size):
            ChainLink.objects.filter(pk__in=link_ids[start : start + chunk_size]).update(committed_in=commit)
    # The application log is kept outside the database: it anchors the roots.
    log.info("ledger commit %s root %s leaves %s", commit.number, commit.root, commit.leaf_count)
    return commit


def check_commit_root(commit: MerkleCommit) -> bool:
    return commit.root == merkle.commit_root(
        commit.number, commit.leaf_count, commit.prev_root, commit.tree_root
    )


# ---------------------------------------------------------------- verification


@dataclass
class Problem:
    code: str
    seq: int | None = None
    event_id: int | None = None
    action: str = ""
    detail: str = ""

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def text(self) -> str:
        return PROBLEMS[self.code] + (f"：{self.detail}" if self.detail else "")

    @property
    def where(self) -> str:
        parts = []
        if self.seq is not None:
            parts.append(f"第{self.seq}环")
        if self.event_id is not None:
            parts.append(f"记录#{self.event_id}")
        return " ".join(parts) + (f"（{self.action_label}）" if self.action else "")

    def __str__(self) -> str:
        return f"{self.where}：{self.text}" if self.where else self.text


@dataclass
class Entry:
    """One row of the verified history (for pages)."""

    seq: int | None
    event: CaseEvent | None
    hash: str
    ok: bool
    actor: str = ""

    @property
    def label(self) -> str:
        return action_label(self.event.action) if self.event is not None else "（记录已被删除）"

    @property
    def short_hash(self) -> str:
        return f"{self.hash[:8]}…{self.hash[-4:]}" if self.hash else "—"


@dataclass
class CaseVerification:
    application_id: int
    reference: str
    event_count: int = 0
    link_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    commit: MerkleCommit | None = None  # the latest commit that covers this case
    committed_seq: int = 0
    proof_checked: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def pending(self) -> int:
        """Links not covered by a commit yet (they will be at the next periodic commit)."""
        return max(0, self.link_count - self.committed_seq)

    @property
    def verdict(self) -> str:
        if not self.ok:
            return f"发现 {len(self.problems)} 处问题，办理过程记录可能被篡改。"
        if self.commit is None:
            return "办理过程记录完整，存证链校验通过（尚未纳入默克尔提交）。"
        return "办理过程记录完整，存证链及默克尔包含证明校验通过。"


def actor_label(event: CaseEvent, owner_id: int | None) -> str:
    """Who acted, masked for the public: 申请人, the staff member's department, or 工作人员."""
    if event.actor_id is None:
        return "系统"
    if owner_id is not None and event.actor_id == owner_id:
        return "申请人"
    try:
        return event.actor.staff_profile.department.name
    except (AttributeError, ObjectDoesNotExist):
        return "工作人员"


def _check_case(
    app_id: int,
    reference: str,
    owner_id: int | None,
    events: list[CaseEvent],
    links: list[ChainLink],
    leaves: list[MerkleLeaf],
    commit_ok: Callable[[MerkleCommit], bool],
    *,
    labels: bool = False,
    entries: bool = True,
) -> CaseVerification:
    result = CaseVerification(app_id, reference, event_count=len(events), link_count=len(links))
    problems = result.problems
    events_by_id = {e.pk: e for e in events}
    chained: set[int] = set()
    links_by_seq: dict[int, ChainLink] = {}
    bad_seqs: set[int] = set()
    prev, expected = GENESIS, 1
    for link in links:
        links_by_seq[link.seq] = link
        event = events_by_id.get(link.event_id)
        action = event.action if event is not None else ""
        if link.seq != expected:
            missing = f"第{expected}环" if link.seq == expected + 1 else f"第{expected}至{link.seq - 1}环"
            problems.append(Problem("link-missing", seq=expected, detail=f"{missing}不存在"))
        expected = link.seq + 1
        if link.prev_hash != prev:
            problems.append(Problem("chain-broken", link.seq, link.event_id, action))
            bad_seqs.add(link.seq)
        if event is None:
            problems.append(Problem("event-deleted", link.seq, link.event_id))
            bad_seqs.add(link.seq)
        else:
            chained.add(event.pk)
            if link_hash(link.prev_hash, event) != link.hash:
                problems.append(Problem("content-changed", link.seq, event.pk, action))
                bad_seqs.add(link.seq)
        prev = link.hash
        if entries:
            result.entries.append(
                Entry(
                    link.seq,
                    event,
                    link.hash,
                    ok=link.seq not in bad_seqs,
                    actor=actor_label(event, owner_id) if labels and event is not None else "",
                )
            )
    for event in events:
        if event.pk not in chained:
            problems.append(Problem("not-chained", None, event.pk, event.action))
            if entries:
                result.entries.append(
                    Entry(None, event, "", ok=False, actor=actor_label(event, owner_id) if labels else "")
                )
    for leaf in leaves:
        commit = leaf.commit
        where = f"第{commit.number}次提交"
        link = links_by_seq.get(leaf.seq)
        if link is None:
            problems.append(Problem("truncated", leaf.seq, detail=where))
        elif link.hash != leaf.head_hash:
            event = events_by_id.get(link.event_id)
            problems.append(
                Problem("head-mismatch", leaf.seq, link.event_id, event.action if event else "", detail=where)
            )
        try:
            proof = [bytes.fromhex(p) for p in leaf.proof]
            reached = merkle.root_from_proof(
                merkle.leaf_hash(merkle.leaf_data(app_id, leaf.seq, leaf.head_hash)),
                leaf.position,
                commit.leaf_count,
                proof,
            )
            proof_ok = reached is not None and reached.hex() == commit.tree_root
        except (TypeError, ValueError):
            proof_ok = False
        if not proof_ok:
            problems.append(Problem("proof-invalid", leaf.seq, detail=where))
        if not commit_ok(commit):
            problems.append(Problem("commit-invalid", detail=where))
        result.proof_checked = True
    if leaves:
        result.commit = leaves[-1].commit
        result.committed_seq = leaves[-1].seq
    return result


def _commit_neighbours_ok(commit: MerkleCommit) -> bool:
    """The commit's own root, and its links to the commits before and after it."""
    if not check_commit_root(commit):
        return False
    if commit.number == 1:
        if commit.prev_root != GENESIS:
            return False
    else:
        before = MerkleCommit.objects.filter(number=commit.number - 1).values_list("root", flat=True).first()
        if before != commit.prev_root:
            return False
    after = MerkleCommit.objects.filter(number=commit.number + 1).values_list("prev_root", flat=True).first()
    return after is None or after == commit.root


def verify_case(app: Application, *, labels: bool = True) -> CaseVerification:
    """Recompute one case's chain, its committed heads and their inclusion proofs.

    ``labels`` adds the masked actor of each event (pages); verification itself does not need it.
    """
    events = CaseEvent.objects.filter(application_id=app.pk).order_by("id")
    if labels:
        events = events.select_related("actor__staff_profile__department")
    links = ChainLink.objects.filter(application_id=app.pk).order_by("seq")
    leaves = (
        MerkleLeaf.objects.filter(application_id=app.pk).select_related("commit").order_by("commit__number")
    )
    cache: dict[int, bool] = {}

    def commit_ok(commit: MerkleCommit) -> bool:
        if commit.pk not in cache:
            cache[commit.pk] = _commit_neighbours_ok(commit)
        return cache[commit.pk]

    return _check_case(
        app.pk, app.reference, app.owner_id, list(events), list(links), list(leaves), commit_ok, labels=labels
    )


def latest_commit() -> MerkleCommit | None:
    return MerkleCommit.objects.order_by("-number").first()


# ---------------------------------------------------------------- whole store


@dataclass
class StoreReport:
    cases: int = 0
    events: int = 0
    links: int = 0
    commits: int = 0
    leaves: int = 0
    latest_root: str = ""
    #: (case reference or "", problem) — the first ``MAX_KEPT`` (all of them go to stdout).
    problems: list[tuple[str, Problem]] = field(default_factory=list)
    problem_count: int = 0
    tampered_cases: int = 0

    MAX_KEPT = 1000

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, reference: str, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < self.MAX_KEPT:
            self.problems.append((reference, problem))


def _leaf_hashes(commit: MerkleCommit, chunk_size: int, state: dict) -> Iterator[bytes]:
    rows = (
        MerkleLeaf.objects.filter(commit=commit)
        .order_by("position")
        .values_list("application_id", "seq", "head_hash", "position")
    )
    for expected, (app_id, seq, head, position) in enumerate(rows.iterator(chunk_size=chunk_size)):
        if position != expected:
            state["positions_ok"] = False
        yield merkle.leaf_hash(merkle.leaf_data(app_id, seq, head))


def _verify_commits(report: StoreReport, chunk_size: int, out: Callable[[str], None]) -> set[int]:
    """Every commit: numbering, chain of roots, root formula, tree recomputed from its leaves."""
    bad: set[int] = set()
    previous: MerkleCommit | None = None
    for commit in MerkleCommit.objects.order_by("number").iterator(chunk_size=chunk_size):
        report.commits += 1
        where = f"第{commit.number}次提交"
        reasons = []
        expected_number = previous.number + 1 if previous else 1
        if commit.number != expected_number:
            reasons.append(f"提交序号不连续（应为{expected_number}）")
        if commit.prev_root != (previous.root if previous else GENESIS):
            reasons.append("上一提交根不符")
        if not check_commit_root(commit):
            reasons.append("提交根与其内容不符")
        state = {"positions_ok": True}
        tree_root, count = merkle.streaming_root(_leaf_hashes(commit, chunk_size, state))
        report.leaves += count
        if count != commit.leaf_count or not state["positions_ok"]:
            reasons.append(f"叶子数或位置不符（记录{commit.leaf_count}，实有{count}）")
        if tree_root.hex() != commit.tree_root:
            reasons.append("树根与叶子不符")
        if reasons:
            bad.add(commit.pk)
            problem = Problem("commit-invalid", detail=f"{where}：{'；'.join(reasons)}")
            report.add("", problem)
            out(f"  {problem}")
        previous = commit
    report.latest_root = previous.root if previous else ""
    return bad


def _batches(iterable: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in iterable:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Event(NamedTuple):
    """The fields of a CaseEvent that verification reads (``canonical_fields`` takes it)."""

    id: int
    application_id: int
    action: str
    from_status: str
    to_status: str
    actor_id: int | None
    on_behalf_of_id: int | None
    reason: str
    data: Any
    created_at: Any

    @property
    def pk(self) -> int:
        return self.id


class _Link(NamedTuple):
    seq: int
    prev_hash: str
    hash: str
    event_id: int


class _Commit(NamedTuple):
    pk: int
    number: int
    leaf_count: int
    tree_root: str


class _Leaf(NamedTuple):
    seq: int
    head_hash: str
    position: int
    proof: list
    commit: _Commit


def verify_store(stdout=None, *, chunk_size: int = 500) -> StoreReport:
    """Verify every case and every commit, streaming (bounded memory for millions of cases).

    Each tampered case is written to ``stdout`` as it is found.
    """

    def out(line: str) -> None:
        if stdout is not None:
            stdout.write(line)

    report = StoreReport()
    bad_commits = _verify_commits(report, chunk_size, out)

    def commit_ok(commit: MerkleCommit) -> bool:
        return commit.pk not in bad_commits

    apps = Application.objects.order_by("pk").values_list("pk", "case_number", "owner_id")
    for batch in _batches(apps.iterator(chunk_size=chunk_size), chunk_size):
        ids = [row[0] for row in batch]
        events: dict[int, list[_Event]] = defaultdict(list)
        links: dict[int, list[_Link]] = defaultdict(list)
        leaves: dict[int, list[_Leaf]] = defaultdict(list)
        # Plain rows, not model instances: building models was half the time of a store check.
        for row in (
            CaseEvent.objects.filter(application_id__in=ids)
            .order_by("application_id", "id")
            .values_list(*_Event._fields)
        ):
            event = _Event(*row)
            events[event.application_id].append(event)
        for app_id, *row in (
            ChainLink.objects.filter(application_id__in=ids)
            .order_by("application_id", "seq")
            .values_list("application_id", *_Link._fields)
        ):
            links[app_id].append(_Link(*row))
        for app_id, seq, head, position, proof, *commit in (
            MerkleLeaf.objects.filter(application_id__in=ids)
            .order_by("application_id", "commit__number")
            .values_list(
                "application_id",
                "seq",
                "head_hash",
                "position",
                "proof",
                "commit_id",
                "commit__number",
                "commit__leaf_count",
                "commit__tree_root",
            )
        ):
            leaves[app_id].append(_Leaf(seq, head, position, proof, _Commit(*commit)))
        for pk, case_number, owner_id in batch:
            reference = case_number or f"SQ{pk:08d}"
            result = _check_case(
                pk, reference, owner_id, events[pk], links[pk], leaves[pk], commit_ok, entries=False
            )
            report.cases += 1
            report.events += result.event_count
            report.links += result.link_count
            if not result.ok:
                report.tampered_cases += 1
                out(f"办件 {reference}：")
                for problem in result.problems:
                    report.add(reference, problem)
                    out(f"  {problem}")
    # Chains whose case no longer exists.
    existing = Application.objects.values("pk")
    orphans = set(
        ChainLink.objects.exclude(application_id__in=existing)
        .values_list("application_id", flat=True)
        .distinct()
    ) | set(
        MerkleLeaf.objects.exclude(application_id__in=existing)
        .values_list("application_id", flat=True)
        .distinct()
    )
    for app_id in sorted(orphans):
        reference = f"SQ{app_id:08d}"
        problem = Problem("case-deleted", detail=f"办件内部编号 {app_id}")
        report.tampered_cases += 1
        report.add(reference, problem)
        out(f"办件 {reference}：")
        out(f"  {problem}")
    return report


def covering_leaf(app: Application, commit: MerkleCommit) -> MerkleLeaf | None:
    """The case's leaf in ``commit`` (its inclusion proof), for pages and the API."""
    return MerkleLeaf.objects.filter(commit=commit, application_id=app.pk).first()
