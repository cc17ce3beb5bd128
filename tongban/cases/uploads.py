"""Material files: type decided by content (never by the name), size limit, SHA-256."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

import filetype
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

MAX_BYTES = 20 * 1024 * 1024
ALLOWED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
OFD_MIME = "application/ofd"


@dataclass(frozen=True)
class CheckedFile:
    content_type: str
    extension: str
    sha256: str
    size: int


def _is_ofd(upload: UploadedFile) -> bool:
    """OFD (GB/T 33190) is a zip container whose root holds OFD.xml."""
    upload.seek(0)
    if upload.read(4) != b"PK\x03\x04":
        return False
    upload.seek(0)
    try:
        with zipfile.ZipFile(io.BytesIO(upload.read())) as archive:
            return "OFD.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        upload.seek(0)


def check_file(upload: UploadedFile) -> CheckedFile:
    if upload.size is None or upload.size > MAX_BYTES:
        raise ValidationError("材料文件不能超过 20 MB。", code="file-too-large")
    if upload.size == 0:
        raise ValidationError("材料文件是空的，请重新选择。", code="file-empty")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in ALLOWED:
        mime, ext = kind.mime, ALLOWED[kind.mime]
    elif _is_ofd(upload):
        mime, ext = OFD_MIME, "ofd"
    else:
        raise ValidationError(
            "材料文件须为 PDF、JPG、PNG 或 OFD 格式（按文件内容判断，修改扩展名无效）。", code="file-type"
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedFile(mime, ext, digest.hexdigest(), upload.size)
