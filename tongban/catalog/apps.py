from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "tongban.catalog"
    verbose_name = "事项管理"
    default_auto_field = "django.db.models.BigAutoField"
