from django.apps import AppConfig


class ScopeAppConfig(AppConfig):
    """Test-only app: a record with region, department and assignee, like a case will have."""

    name = "tests.accounts.scopeapp"
    label = "scopeapp"
    default_auto_field = "django.db.models.BigAutoField"
