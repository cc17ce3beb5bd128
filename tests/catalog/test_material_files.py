"""Blank forms and filled examples: checked by content, stored once by SHA-256, downloadable from the
published guide, editable on a draft, carried over to new versions."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.catalog import factories
from tongban.catalog import files, services
from tongban.catalog.models import MaterialFile

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def zipped(*entries: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for entry in entries:
            archive.writestr(entry, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "extension"),
    [
        (PDF, "pdf"),
        (PNG, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF\x00" + b"\x00" * 64, "jpg"),
        (zipped("[Content_Types].xml", "word/document.xml"), "docx"),
        (zipped("[Content_Types].xml", "xl/workbook.xml"), "xlsx"),
        (zipped("OFD.xml", "Doc_0/Document.xml"), "ofd"),
    ],
)
def test_allowed_types_are_recognised_by_content(content, extension):
    # The name says .pdf for all of them: only the bytes count.
    assert files.detect(SimpleUploadedFile("表格.pdf", content))[0] == extension


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"MZ\x90\x00" + b"\x00" * 100, "file-type"),  # a Windows program renamed to .pdf
        (zipped("readme.txt"), "file-type"),  # a zip that is neither DOCX, XLSX nor OFD
        (b"PK\x03\x04 not really a zip", "file-type"),
        (b"", "file-empty"),
        (PDF + b"0" * (10 * 1024 * 1024), "file-too-large"),
    ],
)
def test_other_files_are_refused_in_chinese(content, code):
    with pytest.raises(ValidationError) as exc:
        files.detect(SimpleUploadedFile("申请表.pdf", content))
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.messages[0])


def test_same_file_is_stored_once_with_its_sha256():
    first = files.store(SimpleUploadedFile("a.pdf", PDF))
    second = files.store(SimpleUploadedFile("b.pdf", PDF))
    assert first.pk == second.pk
    assert first.sha256 == hashlib.sha256(PDF).hexdigest()
    assert first.file.name.endswith(f"{first.sha256}.pdf")
    with first.file.open("rb") as handle:
        assert handle.read() == PDF


def _edit_post_data(edit) -> dict:
    form = edit.context["form"]
    data = {n: ("" if v is None else v) for n, v in form.initial.items() if n in form.fields}
    data = {k: v for k, v in data.items() if v is not False}
    data["form_schema"] = "{}"
    data["situations_text"] = form.initial["situations_text"]
    for prefix in ("materials", "steps", "fees"):
        formset = edit.context[prefix]
        data[f"{prefix}-TOTAL_FORMS"] = len(formset.initial or [])
        data[f"{prefix}-INITIAL_FORMS"] = 0
        for i, row in enumerate(formset.initial or []):
            for key, value in row.items():
                if value is None or value is False or value == "":
                    continue
                data[f"{prefix}-{i}-{key}"] = value.pk if hasattr(value, "pk") else value
    return data


def test_editor_uploads_form_reviewer_publishes_citizen_downloads_next_version_keeps_it(client):
    item = factories.published_item()
    editor = factories.UserFactory(perms=factories.EDITOR_PERMS)
    reviewer = factories.UserFactory(perms=factories.REVIEWER_PERMS)
    factories.login_staff(client, editor)
    client.post(reverse("catalog:manage-draft", args=[item.code]), {"change_summary": "上传空白表格"})
    edit_url = reverse("catalog:manage-edit", args=[item.code])
    edit = client.get(edit_url)
    data = _edit_post_data(edit)

    # A renamed program is refused next to the field and nothing is stored.
    data["materials-0-blank_form_upload"] = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00" + b"\x00" * 50)
    response = client.post(edit_url, data)
    assert "按文件内容判断" in response.content.decode()
    assert not MaterialFile.objects.exists()

    data["materials-0-blank_form_upload"] = SimpleUploadedFile("申请书.docx", zipped("word/document.xml"))
    data["materials-0-example_upload"] = SimpleUploadedFile("示例.pdf", PDF)
    data["submit"] = "1"
    response = client.post(edit_url, data, follow=True)
    assert "已提交审核" in response.content.decode()
    factories.login_staff(client, reviewer)
    client.post(reverse("catalog:manage-review", args=[item.code]), {"decision": "approve"})
    client.post(reverse("catalog:manage-publish", args=[item.code]))
    item.refresh_from_db()
    version = item.published_version
    assert version.number == 2
    assert version.materials.count() == len(factories.COMPLETE_GUIDE["materials"])
    material = version.materials.get(order=0)
    assert material.blank_form_file.extension == "docx" and material.example_file.extension == "pdf"
    # The change shows in the version's diff as a changed material (files compare by SHA-256).
    materials_diff = next(c for c in version.diff if c["field"] == "materials")
    assert materials_diff["changed"] == [material.name]

    client.logout()
    guide = client.get(item.get_absolute_url()).content.decode()
    download = reverse("catalog:material-file", args=[item.code, material.pk, "example"])
    assert download in guide and "下载填写示例（PDF" in guide
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == PDF
    assert (
        client.get(reverse("catalog:material-file", args=[item.code, material.pk, "other"])).status_code
        == 404
    )

    # The next version points at the same stored files.
    draft = services.new_draft(item)
    copied = draft.materials.get(order=0)
    assert copied.blank_form_file_id == material.blank_form_file_id
    assert copied.example_file_id == material.example_file_id
    # A draft's material is not downloadable.
    assert (
        client.get(reverse("catalog:material-file", args=[item.code, copied.pk, "blank"])).status_code == 404
    )
