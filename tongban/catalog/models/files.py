from __future__ import annotations

from django.conf import settings
from django.db import models


def _path(instance: MaterialFile, filename: str) -> str:
    # Content-addressed: the same bytes are stored once and shared by every version that uses them.
    return f"catalog/material-files/{instance.sha256[:2]}/{instance.sha256}.{instance.extension}"


class MaterialFile(models.Model):
    """材料附件 — a blank form (空白表格) or a filled example (示例样本) of a material.

    Immutable and content-addressed (SHA-256), so a new version of the guide simply points at the
    same file; the type was decided by the content (``tongban.catalog.files``), never by the name.
    """

    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    file = models.FileField("文件", upload_to=_path, max_length=200)
    content_type = models.CharField("文件类型", max_length=100)
    extension = models.CharField("扩展名", max_length=8)
    size = models.PositiveIntegerField("大小（字节）")
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "材料附件"
        verbose_name_plural = "材料附件"

    def __str__(self) -> str:
        return f"{self.original_name or self.sha256[:12]}（{self.extension.upper()}）"
