from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tongban.accounts"
    verbose_name = "统一身份认证"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tongban.accounts import checks, identity, signals  # noqa: F401  (registers checks and signal handlers)

        identity.connect_device_models()
