"""Demo data: chain the events of a database from before the ledger, then commit the heads."""

from tongban.ledger.services import backfill, commit_now


def load(stdout) -> None:
    created = backfill()
    commit = commit_now()
    if created or commit:
        stdout.write(
            f"办件存证：补建 {created} 条链环"
            + (f"，第{commit.number}次默克尔提交（{commit.leaf_count} 个链头）。" if commit else "。")
        )
