"""统一身份认证 — persons, legal persons, staff, roles, delegation, SMS and tokens.

Personal data (ID numbers, phones) is encrypted at rest with a blind index for lookups
(tongban.accounts.crypto); business rules are in services.py, data scope in scope.py.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from tongban.accounts.crypto import EncryptedCharField


class User(AbstractUser):
    """平台用户 — one login for a citizen, an enterprise agent or a member of staff."""

    display_name = models.CharField("显示名称", max_length=60, blank=True)
    elder_mode = models.BooleanField("适老化模式", default=False, help_text="大字号、高对比度")
    # "Log out everywhere" bumps this; sessions remember the version they were created with.
    session_version = models.PositiveIntegerField("会话版本", default=0, editable=False)

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username


class RealNameLevel(models.IntegerChoices):
    """实名认证等级."""

    L0 = 0, "L0 未实名"
    L1 = 1, "L1 手机号已验证"
    L2 = 2, "L2 身份信息已核验"
    L3 = 3, "L3 人脸识别已核验"


class Person(models.Model):
    """自然人 — a natural person's profile, one per user account."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="person"
    )
    name = models.CharField("姓名", max_length=60)
    id_number = EncryptedCharField("公民身份号码（密文）", blank=True)
    id_index = models.CharField(
        "身份号码索引", max_length=64, unique=True, null=True, blank=True, editable=False
    )
    phone = EncryptedCharField("手机号码（密文）", blank=True)
    phone_index = models.CharField(
        "手机号码索引", max_length=64, unique=True, null=True, blank=True, editable=False
    )
    level = models.PositiveSmallIntegerField(
        "实名等级", choices=RealNameLevel.choices, default=RealNameLevel.L0
    )
    verified_at = models.DateTimeField("实名认证时间", null=True, blank=True)
    verification_method = models.CharField("认证方式", max_length=40, blank=True)
    created_at = models.DateTimeField("注册时间", default=timezone.now)
    # 当前办事身份: the enterprise this person chose to act for (None = as themselves). Kept on the
    # person, not the session, so department systems reached by single sign-on see the same choice.
    acting_enterprise = models.ForeignKey(
        "Enterprise",
        verbose_name="当前办事企业",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "自然人"
        verbose_name_plural = "自然人"

    def __str__(self) -> str:
        from tongban.core.identifiers import mask_name

        return mask_name(self.name)

    def set_id_number(self, number: str) -> None:
        from tongban.accounts.crypto import blind_index

        self.id_number = number
        self.id_index = blind_index(number, "resident-id") if number else None

    def set_phone(self, phone: str) -> None:
        from tongban.accounts.crypto import blind_index

        self.phone = phone
        self.phone_index = blind_index(phone, "mobile") if phone else None

    @property
    def masked_id_number(self) -> str:
        from tongban.core.identifiers import mask_resident_id

        return mask_resident_id(self.id_number) if self.id_number else ""

    @property
    def masked_phone(self) -> str:
        from tongban.core.identifiers import mask_mobile

        return mask_mobile(self.phone) if self.phone else ""

    @property
    def masked_name(self) -> str:
        from tongban.core.identifiers import mask_name

        return mask_name(self.name)


class Enterprise(models.Model):
    """法人 — a legal person (enterprise or organisation) identified by its credit code.

    The legal representative is recorded by the blind index of their ID number as registered
    with market supervision, so a person who verifies that ID number (L2+) is recognised as the
    representative without a separate claim step.
    """

    name = models.CharField("名称", max_length=120)
    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    legal_rep_name = models.CharField("法定代表人", max_length=60)
    legal_rep_id_index = models.CharField(
        "法定代表人身份号码索引", max_length=64, db_index=True, editable=False
    )
    region = models.ForeignKey(
        "core.Region",
        verbose_name="登记区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_active = models.BooleanField("存续", default=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "法人"
        verbose_name_plural = "法人"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AgentScope(models.TextChoices):
    """经办人授权范围."""

    APPLY = "apply", "申请办事"
    VIEW = "view", "查看办件"
    PAY = "pay", "缴费"
    LICENCES = "licences", "证照使用"


class EnterpriseAgent(models.Model):
    """企业经办人授权 — the legal representative authorises a person to act for the enterprise."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="agents"
    )
    person = models.ForeignKey(
        Person, verbose_name="经办人", on_delete=models.CASCADE, related_name="agencies"
    )
    scopes = models.JSONField("授权范围", default=list)
    valid_from = models.DateTimeField("生效时间", default=timezone.now)
    valid_until = models.DateTimeField("截止时间")
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="授权人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("授权时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "企业经办人授权"
        verbose_name_plural = "企业经办人授权"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.person}"

    def is_current(self, at=None) -> bool:
        at = at or timezone.now()
        return self.revoked_at is None and self.valid_from <= at < self.valid_until

    @property
    def scope_labels(self) -> list[str]:
        return [AgentScope(s).label for s in self.scopes if s in AgentScope.values]


class Role(models.TextChoices):
    """工作人员角色. Each maps to a Django group of the same label (services.sync_role_groups)."""

    WINDOW_CLERK = "window_clerk", "综合窗口人员"
    APPROVER = "approver", "审批人员"
    DEPARTMENT_HEAD = "department_head", "部门负责人"
    SUPERVISOR = "supervisor", "电子监察人员"
    CATALOGUE_ADMIN = "catalogue_admin", "事项管理员"
    HOTLINE_AGENT = "hotline_agent", "热线坐席"
    HALL_MANAGER = "hall_manager", "大厅管理员"
    VILLAGE_HELPER = "village_helper", "帮办代办员"
    DATA_OFFICER = "data_officer", "数据管理员"
    SYSTEM_ADMIN = "system_admin", "系统管理员"


class StaffProfile(models.Model):
    """工作人员 — a member of staff: department, region served, roles (RoleAssignment)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name="账号", on_delete=models.CASCADE, related_name="staff_profile"
    )
    name = models.CharField("姓名", max_length=60)
    department = models.ForeignKey(
        "core.Organisation", verbose_name="所在部门", on_delete=models.PROTECT, related_name="staff"
    )
    region = models.ForeignKey(
        "core.Region", verbose_name="服务区划", on_delete=models.PROTECT, related_name="staff"
    )
    title = models.CharField("职务", max_length=60, blank=True)
    # Work phone for contacting the member of staff; encrypted like every phone number.
    phone = EncryptedCharField("联系电话（密文）", blank=True)
    is_active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"
        ordering = ["department__name", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.department}）"

    @property
    def roles(self) -> set[str]:
        return set(self.user.role_assignments.filter(revoked_at__isnull=True).values_list("role", flat=True))


class RoleAssignment(models.Model):
    """角色授予记录 — the history of who got which role from whom; revocation keeps the row."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )
    role = models.CharField("角色", max_length=24, choices=Role.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="授予人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    granted_at = models.DateTimeField("授予时间", default=timezone.now)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    reason = models.CharField("事由", max_length=200, blank=True)

    class Meta:
        verbose_name = "角色授予记录"
        verbose_name_plural = "角色授予记录"
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_assignment_per_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class DelegationScope(models.TextChoices):
    """帮办代办范围."""

    APPLY = "apply", "代为申请"
    VIEW = "view", "查看办件"
    COLLECT = "collect", "代领结果"


class Delegation(models.Model):
    """帮办代办授权 — a citizen's recorded consent for a helper to act for them."""

    class Method(models.TextChoices):
        SMS = "sms", "短信确认"
        PAPER = "paper", "纸质授权书"

    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="帮办代办员",
        on_delete=models.PROTECT,
        related_name="delegations_as_helper",
    )
    citizen = models.ForeignKey(
        Person, verbose_name="委托人", on_delete=models.PROTECT, related_name="delegations"
    )
    scopes = models.JSONField("代办范围", default=list)
    valid_until = models.DateTimeField("有效期至")
    consent_method = models.CharField("确认方式", max_length=8, choices=Method.choices)
    consent_file = models.FileField("授权书扫描件", upload_to="delegation-consent/%Y/%m/", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "帮办代办授权"
        verbose_name_plural = "帮办代办授权"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.helper} 代 {self.citizen}"

    def is_current(self, at=None) -> bool:
        at = at or timezone.now()
        return self.confirmed_at is not None and self.revoked_at is None and at < self.valid_until

    @property
    def scope_labels(self) -> list[str]:
        return [DelegationScope(s).label for s in self.scopes if s in DelegationScope.values]


class SmsMessage(models.Model):
    """短信发件箱 — every message the platform sends; the local gateway stops here."""

    phone = EncryptedCharField("手机号码（密文）")
    phone_index = models.CharField("手机号码索引", max_length=64, db_index=True)
    text = models.CharField("内容", max_length=300)
    purpose = models.CharField("用途", max_length=24, blank=True)
    gateway = models.CharField("通道", max_length=24)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信"
        verbose_name_plural = "短信发件箱"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%m-%d %H:%M} {self.purpose}"


class SmsCode(models.Model):
    """短信验证码 — hashed at rest, expires, single use, limited attempts."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"
        LOGIN = "login", "登录"
        RESET = "reset", "重置密码"
        DELEGATION = "delegation", "帮办代办授权"

    phone_index = models.CharField("手机号码索引", max_length=64)
    purpose = models.CharField("用途", max_length=16, choices=Purpose.choices)
    code_hash = models.CharField("验证码摘要", max_length=64)
    ip_address = models.GenericIPAddressField("请求 IP", null=True, blank=True)
    created_at = models.DateTimeField("发送时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间")
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [
            models.Index(fields=["phone_index", "purpose", "created_at"], name="smscode_phone_idx"),
            models.Index(fields=["ip_address", "created_at"], name="smscode_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%m-%d %H:%M}"


class PopulationRecord(models.Model):
    """人口库记录（本地演示数据源）— stand-in for the population data source used for L2.

    Only the name and the blind index of the ID number are kept: enough to answer "does this name
    match this ID number", nothing more.
    """

    name = models.CharField("姓名", max_length=60)
    id_index = models.CharField("身份号码索引", max_length=64, unique=True)

    class Meta:
        verbose_name = "人口库记录（本地）"
        verbose_name_plural = "人口库记录（本地）"

    def __str__(self) -> str:
        return self.name


class SocialSecurityCardRecord(models.Model):
    """社会保障卡记录（本地演示数据源）— stand-in for the human-resources and social-security
    card database. Card number, name and ID number (as blind indexes) are enough to answer
    "does this card belong to this person"."""

    card_index = models.CharField("社会保障卡号索引", max_length=64, unique=True)
    name = models.CharField("姓名", max_length=60)
    id_index = models.CharField("身份号码索引", max_length=64, db_index=True)
    is_valid = models.BooleanField("卡片有效", default=True, help_text="挂失、注销的卡不能用于核验")

    class Meta:
        verbose_name = "社会保障卡记录（本地）"
        verbose_name_plural = "社会保障卡记录（本地）"

    def __str__(self) -> str:
        from tongban.core.identifiers import mask_name

        return mask_name(self.name)


class LegalEntityRecord(models.Model):
    """法人库记录（本地演示数据源）— stand-in for the market-supervision legal-entity registry
    used to verify an enterprise by its credit code, name and legal representative."""

    credit_code = models.CharField("统一社会信用代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=120)
    legal_rep_name = models.CharField("法定代表人", max_length=60)
    legal_rep_id_index = models.CharField("法定代表人身份号码索引", max_length=64, db_index=True)
    region = models.ForeignKey(
        "core.Region",
        verbose_name="登记区划",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        "登记状态",
        max_length=12,
        choices=[("active", "存续"), ("revoked", "吊销"), ("cancelled", "注销")],
        default="active",
    )

    class Meta:
        verbose_name = "法人库记录（本地）"
        verbose_name_plural = "法人库记录（本地）"

    def __str__(self) -> str:
        return self.name


class UserSession(models.Model):
    """登录设备 — one row per login, so a person can see and end their sessions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField("会话", max_length=40, unique=True)
    created_at = models.DateTimeField("登录时间", auto_now_add=True)
    ip_address = models.GenericIPAddressField("IP 地址", null=True, blank=True)
    user_agent = models.CharField("设备", max_length=200, blank=True)
    method = models.CharField("登录方式", max_length=20, blank=True)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "登录设备"
        verbose_name_plural = "登录设备"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} {self.created_at:%Y-%m-%d %H:%M}"


class PersonalAccessToken(models.Model):
    """个人访问令牌 — for programs calling the API; only a hash is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="用户", on_delete=models.CASCADE, related_name="access_tokens"
    )
    name = models.CharField("名称", max_length=60)
    prefix = models.CharField("前缀", max_length=12)
    token_hash = models.CharField("摘要", max_length=64, unique=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)

    class Meta:
        verbose_name = "个人访问令牌"
        verbose_name_plural = "个人访问令牌"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
