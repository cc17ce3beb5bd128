"""Write the OpenAPI document that is committed as docs/openapi.json."""

from pathlib import Path

from django.core.management.base import BaseCommand

from tongban.core.openapi import openapi_document


class Command(BaseCommand):
    help = "导出 OpenAPI 接口文档（JSON）"

    def add_arguments(self, parser):
        parser.add_argument("output", nargs="?", default="docs/openapi.json")

    def handle(self, *args, output: str, **options):
        Path(output).write_text(openapi_document(), encoding="utf-8")
        self.stdout.write(f"已写入 {output}")
