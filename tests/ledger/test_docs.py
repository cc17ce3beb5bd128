"""The hand-verification snippet in docs/ledger.md works on real rows (every leaf position)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.ledger.factories import accepted_case
from tongban.ledger import services
from tongban.ledger.hashing import canonical_fields
from tongban.ledger.models import ChainLink, MerkleLeaf

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"


def test_snippet_in_the_docs_verifies_each_case():
    apps = [accepted_case()[0] for _ in range(3)]
    commit = services.commit_now()
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    for app in apps:
        leaf = MerkleLeaf.objects.get(application=app, commit=commit)
        namespace = {
            "links": list(ChainLink.objects.filter(application=app).order_by("seq").values()),
            "events": [canonical_fields(e) for e in app.events.order_by("id")],
            "app_id": app.pk,
            "seq": leaf.seq,
            "head_hash": leaf.head_hash,
            "position": leaf.position,
            "leaf_count": commit.leaf_count,
            "proof": leaf.proof,
            "tree_root": commit.tree_root,
            "number": commit.number,
            "prev_root": commit.prev_root,
            "commit_root": commit.root,
        }
        exec(code, namespace)  # raises AssertionError if the snippet disagrees with the rows
    assert sorted(MerkleLeaf.objects.values_list("position", flat=True)) == [0, 1, 2]
