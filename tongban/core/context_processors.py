from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict:
    return {
        "PLATFORM_NAME": settings.PLATFORM_NAME,
        "PLATFORM_SHORT_NAME": settings.PLATFORM_SHORT_NAME,
        "SERVICE_HOTLINE": settings.SERVICE_HOTLINE,
        "elder_mode": getattr(request, "elder_mode", False),
    }
