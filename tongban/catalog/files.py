"""Blank forms and filled examples of materials: type checked by content, size limit, SHA-256.

PDF, JPG and PNG are recognised by ``filetype``; DOCX, XLSX and OFD are zip containers, recognised
by the zip magic plus the entry that only that format has (word/document.xml, xl/workbook.xml,
OFD.xml). A renamed file is refused.
"""

from __future__ import annotations

import hashlib
import zipfile

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from tongban.catalog.models import MaterialFile

MAX_BYTES = 10 * 1024 * 1024
BY_CONTENT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
ZIP_FORMATS = [
    ("word/document.xml", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("xl/workbook.xml", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("OFD.xml", "ofd", "application/ofd"),
]
ALLOWED_LABEL = "PDF、JPG、PNG、DOCX、XLSX 或 OFD"


def _zip_format(upload: UploadedFile) -> tuple[str, str] | None:
    upload.seek(0)
    if upload.read(4) != b"PK\x03\x04":
        return None
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    for entry, extension, mime in ZIP_FORMATS:
        if entry in names:
            return extension, mime
    return None


def detect(upload: UploadedFile) -> tuple[str, str]:
    """(extension, content type) decided by the bytes; ValidationError when not an allowed type."""
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationError("文件不能超过 10 MB。", code="file-too-large")
    if upload.size == 0:
        raise ValidationError("文件是空的，请重新选择。", code="file-empty")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in BY_CONTENT:
        return BY_CONTENT[kind.mime], kind.mime
    found = _zip_format(upload)
    if found:
        return found
    raise ValidationError(
        f"文件须为 {ALLOWED_LABEL} 格式（按文件内容判断，修改扩展名无效）。", code="file-type"
    )


def store(upload: UploadedFile, *, actor=None) -> MaterialFile:
    """Check and keep an uploaded file; the same bytes uploaded twice are stored once."""
    extension, mime = detect(upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    sha256 = digest.hexdigest()
    with transaction.atomic():
        existing = MaterialFile.objects.filter(sha256=sha256).first()
        if existing:
            return existing
        record = MaterialFile(
            sha256=sha256,
            content_type=mime,
            extension=extension,
            size=upload.size,
            original_name=(upload.name or "")[-200:],
            uploaded_by=actor if getattr(actor, "pk", None) else None,
        )
        record.file.save(f"{sha256}.{extension}", upload, save=False)  # through the storage API
        record.save()
        return record


def by_sha256(value) -> MaterialFile | None:
    """A material's file reference as stored in guide data (sha256 string, a MaterialFile or None)."""
    if not value:
        return None
    if isinstance(value, MaterialFile):
        return value
    found = MaterialFile.objects.filter(sha256=str(value).lower()).first()
    if found is None:
        raise ValidationError(
            "没有找到 SHA-256 为 %(s)s 的材料附件，请先上传该文件。",
            code="material-file-unknown",
            params={"s": str(value)[:64]},
        )
    return found
