from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tongban.cases"
    label = "cases"
    verbose_name = "办件受理"

    def ready(self) -> None:
        from tongban.cases import signals  # noqa: F401 — connects the receivers
