"""Accounts. The identity capability (issue 4) extends this user model with persons, legal
persons, staff, roles and delegation."""

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """平台用户 — one login for a citizen, an enterprise agent or a member of staff."""

    display_name = models.CharField("显示名称", max_length=60, blank=True)
    elder_mode = models.BooleanField("适老化模式", default=False, help_text="大字号、高对比度")

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username
