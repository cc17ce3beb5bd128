"""Full-text search structures that differ per database vendor.

PostgreSQL: a generated tsvector over the space-joined jieba tokens ('simple' config, so no
stemming touches Chinese words) with a GIN index. SQLite: an FTS5 table keyed by the entry id.
"""

from django.db import migrations

PG_FORWARD = [
    "ALTER TABLE catalog_searchentry ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED",
    "CREATE INDEX catalog_searchentry_tsv_gin ON catalog_searchentry USING GIN (tsv)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS catalog_searchentry_tsv_gin",
    "ALTER TABLE catalog_searchentry DROP COLUMN IF EXISTS tsv",
]
SQLITE_FORWARD = ["CREATE VIRTUAL TABLE catalog_search_fts USING fts5(tokens, tokenize='unicode61')"]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS catalog_search_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
