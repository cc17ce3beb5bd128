"""Forms for the identity pages. Business rules stay in services.py; forms only shape input."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from tongban.accounts.models import AgentScope, DelegationScope, Role
from tongban.core.forms_fields import CreditCodeField, MobileNumberField, ResidentIdField


class SendCodeMixin(forms.Form):
    phone = MobileNumberField(label="手机号码")


class RegisterForm(forms.Form):
    phone = MobileNumberField(label="手机号码")
    code = forms.CharField(
        label="短信验证码",
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    name = forms.CharField(label="姓名", max_length=60, required=False, help_text="与身份证一致")
    id_number = ResidentIdField(label="公民身份号码", required=False)
    password = forms.CharField(
        label="设置密码",
        required=False,
        help_text="至少 8 位，不能全是数字",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PasswordLoginForm(forms.Form):
    username = forms.CharField(
        label="手机号码或账号", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"})
    )
    password = forms.CharField(
        label="密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SmsLoginForm(forms.Form):
    phone = MobileNumberField(label="手机号码")
    code = forms.CharField(
        label="短信验证码",
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PasswordResetForm(forms.Form):
    phone = MobileNumberField(label="手机号码")
    code = forms.CharField(
        label="短信验证码",
        max_length=6,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label="新密码", required=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class TotpForm(forms.Form):
    token = forms.CharField(
        label="动态口令",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class AgentGrantForm(forms.Form):
    agent_phone = MobileNumberField(label="经办人手机号码")
    scopes = forms.MultipleChoiceField(
        label="授权范围", choices=AgentScope.choices, widget=forms.CheckboxSelectMultiple
    )
    valid_until = forms.DateField(label="授权截止日期", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_valid_until(self):
        day = self.cleaned_data["valid_until"]
        return timezone.make_aware(
            timezone.datetime.combine(day, timezone.datetime.max.time().replace(microsecond=0))
        )


class DelegationForm(forms.Form):
    citizen_phone = MobileNumberField(label="群众手机号码")
    scopes = forms.MultipleChoiceField(
        label="代办范围", choices=DelegationScope.choices, widget=forms.CheckboxSelectMultiple
    )
    valid_until = forms.DateField(label="有效期至", widget=forms.DateInput(attrs={"type": "date"}))
    method = forms.ChoiceField(
        label="确认方式",
        choices=[("sms", "短信验证码确认"), ("paper", "纸质授权书扫描件")],
        widget=forms.RadioSelect,
        initial="sms",
    )
    scan = forms.FileField(label="授权书扫描件", required=False, help_text="JPG、PNG 或 PDF，不超过 10 MB")

    clean_valid_until = AgentGrantForm.clean_valid_until


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    reason = forms.CharField(label="事由", max_length=200, help_text="例如：岗位调整文件号")


class ClientForm(forms.Form):
    name = forms.CharField(label="部门系统名称", max_length=100)
    redirect_uris = forms.CharField(
        label="回调地址",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="每行一个，须为 https 地址（开发环境可用 http://localhost）",
    )
    post_logout_redirect_uris = forms.CharField(
        label="退出后回调地址", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class _RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{'　' * max(0, obj.level - 1)}{obj.name}（{obj.code}）"


def _placement_fields():
    from tongban.core.models import Organisation, Region

    department = forms.ModelChoiceField(
        label="所在部门",
        queryset=Organisation.objects.filter(is_active=True).order_by("region__path", "name"),
    )
    region = _RegionChoiceField(
        label="服务区划",
        queryset=Region.objects.filter(is_active=True).order_by("path"),
        required=False,
        help_text="部门所在区划或其下级区划；留空则为部门所在区划",
    )
    return department, region


class StaffCreateForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=60)
    username = forms.CharField(
        label="登录账号", max_length=30, help_text="小写字母、数字或 . _ -，例如 la-zhang"
    )
    phone = MobileNumberField(label="手机号码")
    department = forms.ModelChoiceField(label="所在部门", queryset=None)
    region = forms.ModelChoiceField(label="服务区划", queryset=None, required=False)
    title = forms.CharField(label="职务", max_length=60, required=False)
    roles = forms.MultipleChoiceField(
        label="初始角色", choices=Role.choices, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"], self.fields["region"] = _placement_fields()


class StaffEditForm(forms.Form):
    department = forms.ModelChoiceField(label="所在部门", queryset=None)
    region = forms.ModelChoiceField(label="服务区划", queryset=None, required=False)
    title = forms.CharField(label="职务", max_length=60, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"], self.fields["region"] = _placement_fields()


class PersonLookupForm(forms.Form):
    q = forms.CharField(label="手机号码或公民身份号码", max_length=20)


class RevealForm(forms.Form):
    field = forms.ChoiceField(label="查看", choices=[("id_number", "身份证号码"), ("phone", "手机号码")])
    purpose = forms.CharField(label="查看事由", max_length=100, help_text="例如：核验身份、电话回访")


class SocialSecurityCardForm(forms.Form):
    card_number = forms.CharField(
        label="社会保障卡卡号", max_length=20, help_text="卡面上的卡号（不是身份证号码）"
    )


class EnterpriseAddForm(forms.Form):
    credit_code = CreditCodeField(label="统一社会信用代码")
    name = forms.CharField(label="企业名称", max_length=120, help_text="与营业执照一致")
    legal_rep_name = forms.CharField(label="法定代表人姓名", max_length=60)
