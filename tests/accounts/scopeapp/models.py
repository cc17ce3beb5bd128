from django.conf import settings
from django.db import models


class ScopedRecord(models.Model):
    """A stand-in for a case: the data-scope matrix runs against it."""

    label = models.CharField(max_length=40)
    region = models.ForeignKey("core.Region", on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey("core.Organisation", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        app_label = "scopeapp"

    def __str__(self) -> str:
        return self.label
