from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "tongban.ledger"
    label = "ledger"
    verbose_name = "办件存证"

    def ready(self) -> None:
        from tongban.ledger import receivers  # noqa: F401 — appends every case event to its chain
