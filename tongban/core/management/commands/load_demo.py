"""Load the demo data of every app, in INSTALLED_APPS order. Idempotent."""

from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "载入演示数据（可重复执行，不会重复创建）"

    def handle(self, *args, **options):
        for config in apps.get_app_configs():
            if not config.name.startswith("tongban."):
                continue
            try:
                module = import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.load(self.stdout)
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))
