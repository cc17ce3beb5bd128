"""Staff forms for editing a draft's guide elements. Validation of the whole version (rules.py)
runs on submit; these forms catch field-level mistakes at once."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from tongban.catalog import files
from tongban.catalog.models import Fee, ItemVersion, Material, MaterialFile, ProcessStep, ProofEntry
from tongban.catalog.serialize import VERSION_FIELDS

# Staff edit every element the version serialises (serialize.VERSION_FIELDS), plus the change
# summary and the hall, which serialisation shows by name; the hall sits next to the place.
_AFTER_PLACE = VERSION_FIELDS.index("place") + 1
VERSION_FORM_FIELDS = [
    "change_summary",
    *VERSION_FIELDS[:_AFTER_PLACE],
    "hall",
    *VERSION_FIELDS[_AFTER_PLACE:],
]


class VersionForm(forms.ModelForm):
    situations_text = forms.CharField(
        label="情形问题",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "每行一个问题：标识|问题|选项标识:选项名称;选项标识:选项名称。"
            "例如 agent|是否委托他人办理|no:本人办理;yes:委托他人办理"
        ),
    )

    class Meta:
        model = ItemVersion
        fields = VERSION_FORM_FIELDS
        widgets = {
            "acceptance_conditions": forms.Textarea(attrs={"rows": 4}),
            "special_procedures": forms.Textarea(attrs={"rows": 2}),
            "intermediary_services": forms.Textarea(attrs={"rows": 2}),
        }

    def clean(self):
        data = super().clean()
        legal, promised = data.get("legal_limit_days"), data.get("promised_limit_days")
        if legal is not None and promised is not None and promised > legal:
            self.add_error("promised_limit_days", f"承诺办结时限不得超过法定办结时限（{legal} 个工作日）")
        return data

    def clean_situations_text(self) -> list[dict]:
        situations = []
        for number, line in enumerate(self.cleaned_data["situations_text"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = line.split("|")
            if len(parts) != 3 or not all(p.strip() for p in parts):
                raise ValidationError(f"第 {number} 行格式应为：标识|问题|选项标识:选项名称;…")
            options = []
            for chunk in parts[2].split(";"):
                key, _, label = chunk.partition(":")
                if not key.strip() or not label.strip():
                    raise ValidationError(f"第 {number} 行的选项“{chunk}”应写成 选项标识:选项名称")
                options.append({"key": key.strip(), "label": label.strip()})
            situations.append({"key": parts[0].strip(), "text": parts[1].strip(), "options": options})
        return situations

    @staticmethod
    def situations_as_text(version: ItemVersion) -> str:
        return "\n".join(
            f"{q.key}|{q.text}|" + ";".join(f"{o.key}:{o.label}" for o in q.options.all())
            for q in version.questions.prefetch_related("options")
        )


class MaterialForm(forms.ModelForm):
    proof = forms.ModelChoiceField(
        ProofEntry.objects.filter(is_active=True), required=False, label="证明清单条目"
    )
    # The current files travel as their SHA-256 in hidden fields; an upload replaces, a tick removes.
    blank_form_file = forms.CharField(required=False, widget=forms.HiddenInput)
    blank_form_upload = forms.FileField(
        label="上传空白表格文件",
        required=False,
        help_text=f"{files.ALLOWED_LABEL}，不超过 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.ofd"}),
    )
    blank_form_clear = forms.BooleanField(label="删除现有空白表格文件", required=False)
    example_file = forms.CharField(required=False, widget=forms.HiddenInput)
    example_upload = forms.FileField(
        label="上传填写示例文件",
        required=False,
        help_text=f"{files.ALLOWED_LABEL}，不超过 10 MB",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx,.ofd"}),
    )
    example_clear = forms.BooleanField(label="删除现有填写示例文件", required=False)

    def _check_upload(self, name: str):
        upload = self.cleaned_data.get(name)
        if upload:
            files.detect(upload)  # raises a ValidationError shown next to the field
        return upload

    def clean_blank_form_upload(self):
        return self._check_upload("blank_form_upload")

    def clean_example_upload(self):
        return self._check_upload("example_upload")

    def _current(self, field: str) -> MaterialFile | None:
        sha = self.initial.get(field) or ""
        return MaterialFile.objects.filter(sha256=sha).first() if sha else None

    def current_blank_form(self) -> MaterialFile | None:
        return self._current("blank_form_file")

    def current_example(self) -> MaterialFile | None:
        return self._current("example_file")

    class Meta:
        model = Material
        fields = [
            "name",
            "source",
            "source_note",
            "originals",
            "copies",
            "medium",
            "requirement",
            "applies_when",
            "is_key",
            "commitment_allowed",
            "is_proof",
            "proof",
            "blank_form",
            "example",
            "notes",
        ]


class StepForm(forms.ModelForm):
    class Meta:
        model = ProcessStep
        fields = ["name", "description", "days"]


class FeeForm(forms.ModelForm):
    class Meta:
        model = Fee
        fields = ["name", "standard", "amount", "basis"]


MaterialFormSet = forms.formset_factory(MaterialForm, extra=1, can_delete=True)
StepFormSet = forms.formset_factory(StepForm, extra=1, can_delete=True)
FeeFormSet = forms.formset_factory(FeeForm, extra=1, can_delete=True)


def rows(formset, *, actor=None) -> list[dict]:
    """The kept, non-empty rows of a valid formset as plain dicts for services.update_draft.

    Uploaded material files are checked and stored here (content-addressed, so storing a file
    of a row that later fails a rule leaves nothing wrong behind) and replaced by their SHA-256.
    """
    result = []
    for form in formset.forms:
        if not form.has_changed() or form.cleaned_data.get("DELETE"):
            continue
        data = {k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
        if "proof" in data:
            data["proof"] = data["proof"].code if data["proof"] else None
        for prefix, field in (("blank_form", "blank_form_file"), ("example", "example_file")):
            if field not in data:
                continue
            upload = data.pop(f"{prefix}_upload", None)
            clear = data.pop(f"{prefix}_clear", False)
            if upload:
                data[field] = files.store(upload, actor=actor).sha256
            elif clear:
                data[field] = None
            else:
                data[field] = data[field] or None
        result.append(data)
    return result


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="审核结论", choices=[("approve", "审核通过"), ("reject", "退回修改")], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label="审核意见", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class ImportForm(forms.Form):
    file = forms.FileField(label="导入文件", help_text="JSON（.json）或 Excel（.xlsx）")
