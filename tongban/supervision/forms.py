"""网上投诉 form (citizens). Rules live in services.register_complaint; this checks the input."""

from __future__ import annotations

import re

from django import forms

MOBILE = re.compile(r"^1[3-9]\d{9}$")


class ComplaintForm(forms.Form):
    about = forms.ChoiceField(
        label="投诉对象",
        choices=[("application", "我的办件"), ("window", "服务窗口")],
        widget=forms.RadioSelect,
        initial="application",
        error_messages={"required": "请选择投诉对象。"},
    )
    application = forms.ModelChoiceField(
        label="办件",
        queryset=None,
        required=False,
        empty_label="请选择办件",
        error_messages={"invalid_choice": "请选择您本人的办件。"},
    )
    window = forms.ModelChoiceField(
        label="窗口",
        queryset=None,
        required=False,
        empty_label="请选择窗口",
        error_messages={"invalid_choice": "请选择列表中的窗口。"},
    )
    content = forms.CharField(
        label="投诉内容",
        min_length=10,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="请写明时间、经过和诉求，不少于10个字。",
        error_messages={"required": "请填写投诉内容。", "min_length": "请具体描述投诉内容（不少于10个字）。"},
    )
    contact_name = forms.CharField(
        label="联系人", max_length=60, error_messages={"required": "请填写联系人。"}
    )
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=11,
        required=False,
        help_text="选填。答复将通过站内信发送，填写手机号码可同时收到短信。",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def __init__(self, *args, applications, windows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications
        self.fields["application"].label_from_instance = lambda a: (
            f"{a.reference} {a.implementation.basic_item.name}"
        )
        self.fields["window"].queryset = windows
        self.fields["window"].label_from_instance = lambda w: f"{w.hall.name} {w.number}号 {w.name}"

    def clean_contact_phone(self):
        phone = self.cleaned_data.get("contact_phone", "").strip()
        if phone and not MOBILE.match(phone):
            raise forms.ValidationError("请填写正确的11位手机号码。")
        return phone

    def clean(self):
        data = super().clean()
        about = data.get("about")
        if about == "application":
            data["window"] = None
            if not data.get("application"):
                self.add_error("application", "请选择要投诉的办件。")
        elif about == "window":
            data["application"] = None
            if not data.get("window"):
                self.add_error("window", "请选择要投诉的窗口。")
        return data
