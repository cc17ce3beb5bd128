from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tongban.core"
    verbose_name = "基础数据"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from tongban.core.generations import bump_all

        post_migrate.connect(bump_all, dispatch_uid="core-generations-after-migrate")
