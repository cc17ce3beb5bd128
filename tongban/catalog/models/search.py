from __future__ import annotations

from django.db import models


class Synonym(models.Model):
    """同义词/常见说法 — maps how people talk ("开饭店") to catalogue words ("餐饮 食品经营")."""

    phrase = models.CharField("说法", max_length=40, unique=True)
    expansions = models.CharField("对应检索词", max_length=200, help_text="空格分隔")

    class Meta:
        verbose_name = "搜索同义词"
        verbose_name_plural = "搜索同义词"
        ordering = ["phrase"]

    def __str__(self) -> str:
        return f"{self.phrase} → {self.expansions}"


class SearchEntry(models.Model):
    """Search document for one published implementation: jieba tokens joined by spaces.

    On PostgreSQL a generated ``tsv`` tsvector column with a GIN index is added by migration;
    on SQLite an FTS5 table ``catalog_search_fts`` mirrors ``tokens`` (rowid = id).
    """

    implementation = models.OneToOneField(
        "catalog.ItemImplementation", on_delete=models.CASCADE, related_name="search_entry"
    )
    name = models.CharField(max_length=200)
    tokens = models.TextField()
    region_path = models.CharField(max_length=80)
    weight = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "搜索索引"
        verbose_name_plural = "搜索索引"

    def __str__(self) -> str:
        return self.name
