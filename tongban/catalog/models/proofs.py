from __future__ import annotations

from django.db import models


class ProofEntry(models.Model):
    """证明清单条目 — a proof that may lawfully be required. A material that is a proof must
    point at an active entry, or its item cannot be published ("凡未纳入清单的一律不得要求")."""

    class Replacement(models.TextChoices):
        NONE = "none", "保留提交"
        COMMITMENT = "commitment", "告知承诺替代"
        SHARING = "sharing", "数据共享核验替代"
        LICENCE = "licence", "电子证照替代"

    code = models.CharField("清单编号", max_length=20, unique=True)
    name = models.CharField("证明名称", max_length=200)
    issuer = models.CharField("开具单位", max_length=200)
    legal_basis = models.TextField("设定依据")
    replacement = models.CharField(
        "替代方式", max_length=12, choices=Replacement.choices, default=Replacement.NONE
    )
    is_active = models.BooleanField("有效", default=True)

    class Meta:
        verbose_name = "证明清单"
        verbose_name_plural = "证明清单"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
