"""Build the hash chains of events recorded before the ledger existed (idempotent)."""

from django.core.management.base import BaseCommand

from tongban.ledger.services import backfill, commit_now


class Command(BaseCommand):
    help = "为尚未入链的办件过程记录补建存证链（按记录顺序，可重复执行），并提交默克尔根"

    def add_arguments(self, parser):
        parser.add_argument("--no-commit", action="store_true", help="只补建链环，不立即提交默克尔根")

    def handle(self, *args, **options):
        created = backfill(stdout=self.stdout)
        self.stdout.write(f"补建存证链环 {created} 条。")
        if not options["no_commit"]:
            commit = commit_now()
            if commit:
                self.stdout.write(
                    f"第{commit.number}次默克尔提交：{commit.leaf_count} 个链头，根 {commit.root}。"
                )
        self.stdout.write(self.style.SUCCESS("完成。"))
