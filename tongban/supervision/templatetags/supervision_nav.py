"""``{% supervision_link %}`` — the workbench top bar's entry to supervision, for those it serves:
supervisors and department heads (电子监察), other staff only when they have unacknowledged alerts."""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from tongban.supervision import access
from tongban.supervision.models import Alert

register = template.Library()


@register.simple_tag(takes_context=True)
def supervision_link(context) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or access.scope_for(user).user_id is None:
        return ""
    alerts = Alert.objects.filter(recipient=user, acknowledged_at__isnull=True).count()
    badge = format_html('<span class="tag tag-red">预警 {}</span>', alerts) if alerts else ""
    if access.can_supervise(user):
        return format_html('<a href="{}">电子监察</a>{}', reverse("supervision:dashboard"), badge)
    if alerts:
        return format_html('<a href="{}">{}</a>', reverse("supervision:alerts"), badge)
    return ""
