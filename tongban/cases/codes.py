"""GB/T 39046 exchange codes for cases — the ONE place mapping our statuses to the national codes.

办件类型 (GB/T 39046 / 国家政务服务平台办件信息): 1 即办件, 2 承诺件 — confirmed.
办件状态: the standard's 办件过程 codes as used by the national platform's exchange
(受理 / 不予受理 / 补正 / 办结). The numeric values below follow the provincial exchange
specifications derived from it; ``CONFIRMED`` says which ones we checked against the text and
which are inferred, so the exchange issue can correct them in one place.
"""

from __future__ import annotations

from tongban.cases.models import Status

CASE_TYPE = {"spot": "1", "promised": "2"}  # 办件类型: confirmed

STATUS_CODE = {
    Status.SUBMITTED: ("0", "收件"),
    Status.CORRECTION_REQUESTED: ("3", "补正"),
    Status.ACCEPTED: ("1", "受理"),
    Status.ACCEPTED_WITH_GAPS: ("1", "受理"),  # 容缺受理 is a 受理 with a commitment
    Status.REFUSED: ("2", "不予受理"),
    # 承办/审批中, 特别程序 and 决定 are not separate exchange states: the case stays 受理 until 办结.
    Status.IN_PROGRESS: ("1", "受理"),
    Status.PAUSED: ("1", "受理"),
    Status.DECIDED: ("1", "受理"),
    Status.COMPLETED: ("9", "办结"),
}
CONFIRMED = {Status.ACCEPTED, Status.COMPLETED}


def case_type_code(handling_kind: str) -> str:
    return CASE_TYPE.get(handling_kind, "2")


def status_code(status: str) -> tuple[str, str] | None:
    """(code, name) for exchange, or None for states the platform never sends (草稿)."""
    return STATUS_CODE.get(status)
