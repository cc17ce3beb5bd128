"""``manage.py check --deploy`` refuses development keys for personal data and OIDC signing."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def identity_keys(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not settings.FIELD_ENCRYPTION_KEY or not settings.BLIND_INDEX_KEY:
        errors.append(
            Error(
                "生产环境必须设置 FIELD_ENCRYPTION_KEY 与 BLIND_INDEX_KEY（个人信息加密与索引密钥）。",
                id="tongban.accounts.E001",
            )
        )
    if not getattr(settings, "OIDC_KEY_FROM_ENVIRONMENT", False):
        errors.append(
            Error(
                "生产环境必须通过环境变量 OIDC_RSA_PRIVATE_KEY 提供单点登录签名私钥。",
                id="tongban.accounts.E002",
            )
        )
    return errors
