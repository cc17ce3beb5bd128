"""Verify every case's hash chain and the Merkle commits; exit code 1 if anything was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from tongban.ledger.services import verify_store


class Command(BaseCommand):
    help = "校验全部办件存证链和默克尔提交，报告被篡改的办件（有问题时退出码为 1）"

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=500, help="每批校验的办件数")

    def handle(self, *args, **options):
        self.stdout.write("正在校验办件存证……")
        report = verify_store(self.stdout, chunk_size=options["chunk_size"])
        self.stdout.write(
            f"共校验办件 {report.cases} 件、过程记录 {report.events} 条、存证链环 {report.links} 条、"
            f"默克尔提交 {report.commits} 次（叶子 {report.leaves} 个）。"
        )
        if report.latest_root:
            self.stdout.write(f"最新提交根：{report.latest_root}（可与公布或日志中的提交根比对）")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("校验通过，未发现篡改。"))
            return
        raise CommandError(
            f"发现 {report.problem_count} 处问题，涉及办件 {report.tampered_cases} 件（详见上文）。",
            returncode=1,
        )
