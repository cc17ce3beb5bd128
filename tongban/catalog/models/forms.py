from __future__ import annotations

from django.db import models


class FieldSet(models.Model):
    """可复用表单字段组 — a reusable group of application-form fields (applicant, enterprise, agent …).

    ``schema`` is a JSON Schema (draft 2020-12) object schema. Each property may carry
    ``"x-prefill": "person.name"`` naming the profile/shared-data attribute that fills it, and
    ``"x-help"`` with help text. See docs/catalog.md.
    """

    key = models.SlugField("标识", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    schema = models.JSONField("字段定义 (JSON Schema)")

    class Meta:
        verbose_name = "表单字段组"
        verbose_name_plural = "表单字段组"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name
