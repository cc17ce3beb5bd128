"""Every case event lands in its case's SM3 chain; tampering behind the application's back is named."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.ledger.factories import accepted_case
from tongban.cases.models import CaseEvent
from tongban.ledger import services
from tongban.ledger.hashing import GENESIS, canonical_bytes, link_hash
from tongban.ledger.models import ChainLink, MerkleCommit, MerkleLeaf

pytestmark = pytest.mark.django_db


def _codes(result):
    return [p.code for p in result.problems]


def test_submit_and_accept_are_chained_and_verify():
    app, _person, clerk = accepted_case()
    links = list(ChainLink.objects.filter(application=app).order_by("seq"))
    events = list(app.events.order_by("id"))
    assert [link.seq for link in links] == list(range(1, len(events) + 1))
    assert [link.event_id for link in links] == [e.pk for e in events]
    # The back office (workflow) may add events after acceptance; they are chained the same way.
    assert [e.action for e in events][:3] == ["create", "submit", "accept"]
    assert links[0].prev_hash == GENESIS
    for prev, link in zip([None, *links], links, strict=False):
        if prev is not None:
            assert link.prev_hash == prev.hash
    # By hand, as docs/ledger.md shows: SM3(prev_hash bytes + canonical JSON of the event).
    event = CaseEvent.objects.get(pk=links[2].event_id)
    body = json.loads(canonical_bytes(event))
    assert body["action"] == "accept" and body["data"] == {"case_number": app.case_number}
    assert body["created_at"].endswith("+00:00") and "." in body["created_at"]
    assert (
        hashlib.new("sm3", bytes.fromhex(links[2].prev_hash) + canonical_bytes(event)).hexdigest()
        == links[2].hash
    )

    result = services.verify_case(app)
    assert result.ok and result.event_count == len(events) and result.commit is None
    assert result.pending == len(events)
    actors = [e.actor for e in result.entries]
    assert actors[:3] == ["申请人", "申请人", clerk.staff_profile.department.name]

    commit = services.commit_now()
    assert commit.number == 1 and commit.leaf_count == 1 and commit.prev_root == GENESIS
    result = services.verify_case(app)
    assert result.ok and result.commit == commit and result.pending == 0 and result.proof_checked
    assert services.commit_now() is None  # nothing changed since


def test_edited_event_is_detected_and_named():
    app, *_ = accepted_case()
    accept = app.events.get(action="accept")
    CaseEvent.objects.filter(pk=accept.pk).update(reason="篡改的理由")
    result = services.verify_case(app)
    assert not result.ok
    [problem] = result.problems
    assert (problem.code, problem.seq, problem.event_id, problem.action) == (
        "content-changed",
        3,
        accept.pk,
        "accept",
    )
    assert "第3环" in str(problem) and "受理" in str(problem) and "内容" in str(problem)
    assert [e.seq for e in result.entries if not e.ok] == [3]


def test_edited_timestamp_and_actor_are_detected():
    app, _person, clerk = accepted_case()
    submit = app.events.get(action="submit")
    CaseEvent.objects.filter(pk=submit.pk).update(actor=clerk)
    assert _codes(services.verify_case(app)) == ["content-changed"]


def test_deleted_event_is_detected():
    app, *_ = accepted_case()
    submit = app.events.get(action="submit")
    CaseEvent.objects.filter(pk=submit.pk).delete()
    result = services.verify_case(app)
    [problem] = result.problems
    assert (problem.code, problem.seq, problem.event_id) == ("event-deleted", 2, submit.pk)


def test_deleted_event_and_link_is_detected():
    app, *_ = accepted_case()
    submit = app.events.get(action="submit")
    ChainLink.objects.filter(event_id=submit.pk).delete()
    CaseEvent.objects.filter(pk=submit.pk).delete()
    result = services.verify_case(app)
    assert _codes(result) == ["link-missing", "chain-broken"]
    assert result.problems[0].seq == 2


def test_edited_link_hash_is_detected():
    app, *_ = accepted_case()
    link = ChainLink.objects.get(application=app, seq=2)
    ChainLink.objects.filter(pk=link.pk).update(hash="ab" * 32)
    result = services.verify_case(app)
    assert [(p.code, p.seq) for p in result.problems] == [("content-changed", 2), ("chain-broken", 3)]


def test_event_inserted_behind_the_application_is_detected():
    app, *_ = accepted_case()
    first = app.events.order_by("id").first()
    CaseEvent.objects.bulk_create(
        [CaseEvent(application=app, action="refuse", from_status="submitted", to_status="refused")]
    )
    result = services.verify_case(app)
    assert _codes(result) == ["not-chained"]
    assert result.problems[0].action == "refuse"
    assert first.pk < result.problems[0].event_id


def _rewrite_chain(app) -> None:
    """What an attacker with database access does: recompute every link from the edited events."""
    prev = GENESIS
    for link in ChainLink.objects.filter(application=app).order_by("seq"):
        digest = link_hash(prev, CaseEvent.objects.get(pk=link.event_id))
        ChainLink.objects.filter(pk=link.pk).update(prev_hash=prev, hash=digest)
        prev = digest


def test_chain_rewritten_consistently_is_valid_until_a_commit_covers_it():
    app, *_ = accepted_case()
    accept = app.events.get(action="accept")
    CaseEvent.objects.filter(pk=accept.pk).update(reason="事后改写")
    _rewrite_chain(app)
    assert services.verify_case(app).ok  # the chain alone cannot tell: this is what commits are for


def test_chain_rewritten_consistently_after_a_commit_is_detected():
    """The attacker changes an event and recomputes every link: the committed head gives it away."""
    app, *_ = accepted_case()
    commit = services.commit_now()
    accept = app.events.get(action="accept")
    CaseEvent.objects.filter(pk=accept.pk).update(reason="事后改写")
    _rewrite_chain(app)
    head = ChainLink.objects.filter(application=app).order_by("-seq").first()
    result = services.verify_case(app)
    assert [(p.code, p.seq) for p in result.problems] == [("head-mismatch", head.seq)]
    assert f"第{commit.number}次提交" in str(result.problems[0])

    # … and rewriting the committed leaf too breaks its inclusion proof.
    MerkleLeaf.objects.filter(application=app).update(head_hash=head.hash)
    assert _codes(services.verify_case(app)) == ["proof-invalid"]


def test_rewritten_commit_breaks_the_commit_chain():
    app, *_ = accepted_case()
    first = services.commit_now()
    _other, *_ = accepted_case()
    second = services.commit_now()
    assert second.prev_root == first.root
    # Recompute commit 1 around a forged tree root: its own formula holds, commit 2 no longer links.
    from tongban.ledger.merkle import commit_root

    forged = "cd" * 32
    MerkleCommit.objects.filter(pk=first.pk).update(
        tree_root=forged, root=commit_root(1, first.leaf_count, first.prev_root, forged)
    )
    assert "commit-invalid" in _codes(services.verify_case(app))


def test_truncated_chain_after_a_commit_is_detected():
    app, *_ = accepted_case()
    services.commit_now()
    head = ChainLink.objects.filter(application=app).order_by("-seq").first()
    CaseEvent.objects.filter(pk=head.event_id).delete()
    ChainLink.objects.filter(pk=head.pk).delete()
    result = services.verify_case(app)
    assert _codes(result) == ["truncated"] and result.problems[0].seq == head.seq


def test_commit_covers_only_changed_chains():
    app, _person, clerk = accepted_case()
    other, *_ = accepted_case()
    first = services.commit_now()
    assert first.leaf_count == 2
    from tongban.cases import services as cases

    other_events = other.events.count()
    # A new event on ``app`` only (through the public record function).
    cases.record_case_event(app, "supervise_note", app.status, actor=clerk, reason="督办提醒")
    second = services.commit_now()
    assert second.leaf_count == 1
    leaf = second.leaves.get()
    assert (leaf.application_id, leaf.seq) == (app.pk, CaseEvent.objects.filter(application=app).count())
    assert services.verify_case(app).ok and services.verify_case(other).event_count == other_events
    assert services.verify_case(app).commit == second


def test_backfill_chains_legacy_events_and_is_idempotent():
    app, *_ = accepted_case()
    other, *_ = accepted_case()
    ChainLink.objects.all().delete()
    assert services.backfill() == CaseEvent.objects.count()
    assert services.backfill() == 0
    assert services.verify_case(app).ok and services.verify_case(other).ok
    count = app.events.count()
    assert list(ChainLink.objects.filter(application=app).values_list("seq", flat=True)) == list(
        range(1, count + 1)
    )
