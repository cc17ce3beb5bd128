"""办件存证 — each case's events in an SM3 hash chain, chain heads committed into Merkle roots.

The links refer to cases and events without database foreign-key constraints on purpose: a
deleted event or case must leave its link behind, so verification can say what disappeared.
Rows are written only by services.py (append on every case event, periodic commit).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class MerkleCommit(models.Model):
    """默克尔提交 — the heads of the chains that changed since the previous commit."""

    number = models.PositiveIntegerField("提交序号", unique=True)
    tree_root = models.CharField("默克尔树根", max_length=64)
    prev_root = models.CharField("上一提交根", max_length=64)
    root = models.CharField("提交根（含上一提交根）", max_length=64)
    leaf_count = models.PositiveIntegerField("叶子数")
    created_at = models.DateTimeField("提交时间", auto_now_add=True)

    class Meta:
        verbose_name = "默克尔提交"
        verbose_name_plural = "默克尔提交"
        ordering = ["number"]

    def __str__(self) -> str:
        return f"第{self.number}次提交 {self.root[:12]}"


class ChainLink(models.Model):
    """One case event in its case's chain: ``hash = SM3(prev_hash || canonical(event))``."""

    event = models.OneToOneField(
        "cases.CaseEvent",
        verbose_name="过程记录",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="chain_link",
    )
    application = models.ForeignKey(
        "cases.Application",
        verbose_name="办件",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    seq = models.PositiveIntegerField("链序号")
    prev_hash = models.CharField("上一环哈希", max_length=64)
    hash = models.CharField("本环哈希", max_length=64)
    created_at = models.DateTimeField("入链时间", auto_now_add=True)
    committed_in = models.ForeignKey(
        MerkleCommit,
        verbose_name="所属提交",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = "存证链环"
        verbose_name_plural = "存证链环"
        ordering = ["application_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["application", "seq"], name="ledger_link_unique_seq"),
        ]
        indexes = [
            # The periodic commit reads only what is not committed yet.
            models.Index(
                fields=["application", "seq"],
                condition=Q(committed_in__isnull=True),
                name="ledger_link_uncommitted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}#{self.seq} {self.hash[:12]}"


class MerkleLeaf(models.Model):
    """A chain head in a commit, with its inclusion proof (RFC 9162 audit path, hex, deepest first)."""

    commit = models.ForeignKey(
        MerkleCommit, verbose_name="提交", on_delete=models.PROTECT, related_name="leaves"
    )
    application = models.ForeignKey(
        "cases.Application",
        verbose_name="办件",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    seq = models.PositiveIntegerField("链头序号")
    head_hash = models.CharField("链头哈希", max_length=64)
    position = models.PositiveIntegerField("叶子位置")
    proof = models.JSONField("包含证明", default=list)

    class Meta:
        verbose_name = "默克尔叶子"
        verbose_name_plural = "默克尔叶子"
        ordering = ["commit_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["commit", "position"], name="ledger_leaf_unique_position"),
            models.UniqueConstraint(fields=["commit", "application"], name="ledger_leaf_one_per_case"),
        ]
        indexes = [models.Index(fields=["application", "commit"], name="ledger_leaf_by_case")]

    def __str__(self) -> str:
        return f"{self.commit_id}/{self.position} {self.application_id}#{self.seq}"
