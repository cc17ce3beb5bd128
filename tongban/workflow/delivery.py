"""送达 — how a result reaches the applicant. One small interface per way, chosen by the 送达
step's ``handover``; the express carrier is an adapter with a local implementation (the delivery
capability will register real carriers and track parcels behind the same interface).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone


@dataclass(frozen=True)
class Receipt:
    method: str
    reference: str  # waybill number, message id or window counter — shown to the applicant
    note: str


class ExpressCarrier(Protocol):
    name: str

    def create_waybill(self, *, case_number: str, recipient: str, address: str, phone: str) -> str: ...


class LocalExpressCarrier:
    """Numbers waybills itself: TB + date + case sequence + a check digit (mod 10 of the digits)."""

    name = "local"

    def create_waybill(self, *, case_number: str, recipient: str, address: str, phone: str) -> str:
        body = f"{timezone.localdate():%Y%m%d}{case_number[-6:]}"
        check = sum(int(c) for c in body if c.isdigit()) % 10
        return f"TB{body}{check}"


EXPRESS_CARRIERS: dict[str, type] = {"local": LocalExpressCarrier}


def express_carrier() -> ExpressCarrier:
    return EXPRESS_CARRIERS[getattr(settings, "EXPRESS_CARRIER", "local")]()


def hand_over(app, method: str, *, address: str = "") -> Receipt:
    """Deliver ``app``'s results by ``method`` (window / post / electronic)."""
    if method == "window":
        return Receipt("window", app.window.name if app.window_id else "窗口", "申请人到窗口领取")
    if method == "electronic":
        return Receipt("electronic", app.case_number or "", "已推送至个人中心，可下载电子文书")
    if method == "post":
        address = (address or "").strip()
        if len(address) < 6:
            raise ValidationError("邮寄送达须填写完整的收件地址。", code="address-missing")
        waybill = express_carrier().create_waybill(
            case_number=app.case_number or "",
            recipient=app.applicant_name,
            address=address,
            phone=app.applicant_phone or "",
        )
        return Receipt("post", waybill, f"已交寄，运单号 {waybill}，收件地址 {address}")
    raise ValidationError("请选择送达方式（窗口领取、邮寄送达或电子送达）。", code="handover-missing")
