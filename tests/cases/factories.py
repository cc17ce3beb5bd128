"""Builders for the case tests: a published item, a citizen, clerks and uploads."""

from __future__ import annotations

import io
import itertools
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.helpers import make_citizen, make_staff, resident_id
from tests.catalog.factories import COMPLETE_GUIDE, department, liuan, published_item

_phones = itertools.count(13700000001)
_serial = itertools.count(100)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def pdf(name: str = "申请书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def ofd(name: str = "营业执照.ofd") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/octet-stream")


def citizen(name: str = "张小三"):
    serial = next(_serial)
    return make_citizen(name=name, phone=str(next(_phones)), id_number=resident_id(serial), level=2)


def clerk(org, region=None, username: str | None = None, roles=("window_clerk",)):
    return make_staff(
        username=username or f"clerk{next(_serial)}", department=org, region=region or org.region, roles=roles
    )


def item(org=None, guide: dict | None = None, name: str = "食品经营许可"):
    org = org or department(liuan()["city"])
    return published_item(org, name=name, guide=guide or COMPLETE_GUIDE)


def material(impl, name: str):
    return impl.published_version.materials.get(name=name)


def window(region, number: str = "1", name: str = "综合受理窗口"):
    """A window in the 政务服务中心 of ``region`` (created on first use)."""
    from tongban.core.models import ServiceHall, Window

    hall, _ = ServiceHall.objects.get_or_create(
        name=f"{region.name}政务服务中心",
        region=region,
        defaults={"kind": ServiceHall.Kind.CENTRE, "address": f"{region.name}人民路1号"},
    )
    return Window.objects.get_or_create(hall=hall, number=number, defaults={"name": name})[0]
