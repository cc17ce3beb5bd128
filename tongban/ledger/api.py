"""办件存证核验 API: anyone holding a case number and the applicant's ID number can verify that
the case's history was not changed (same lookup and rate limit as the progress query)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from tongban.cases import access
from tongban.cases import services as cases
from tongban.core.audit import client_ip
from tongban.core.identifiers import mask_name
from tongban.core.schemas import ResidentId
from tongban.ledger import services
from tongban.ledger.schemas import CaseNumber

router = Router(tags=["办件存证"])

NOT_FOUND = "未查到办件，请核对办件编号和身份证号码。"


class VerifyIn(Schema):
    case_number: CaseNumber = Field(description="办件编号")
    id_number: ResidentId = Field(description="申请人身份证号码")


class LinkOut(Schema):
    seq: int | None = Field(description="链序号（未入链的记录为空）")
    action: str
    action_name: str = Field(description="环节")
    actor: str = Field(description="办理人（脱敏：申请人 / 部门名称 / 工作人员 / 系统）")
    at: dt.datetime | None
    hash: str = Field(description="本环 SM3 哈希（十六进制）")
    ok: bool


class ProblemOut(Schema):
    code: str = Field(description="问题代码，如 content-changed、event-deleted、head-mismatch")
    seq: int | None
    action: str
    message: str = Field(description="中文说明")


class ProofOut(Schema):
    application_id: int = Field(description="叶子内容中的办件内部编号")
    seq: int = Field(description="提交时的链头序号")
    head_hash: str
    position: int = Field(description="叶子在树中的位置（从 0 起）")
    proof: list[str] = Field(description="RFC 9162 包含证明（自底向上的兄弟节点哈希）")


class CommitOut(Schema):
    number: int = Field(description="默克尔提交序号")
    created_at: dt.datetime
    leaf_count: int
    tree_root: str
    prev_root: str
    root: str = Field(description="提交根 = SM3(0x02‖序号‖叶子数‖上一提交根‖树根)")


class VerifyOut(Schema):
    case_number: str
    item_name: str
    applicant: str = Field(description="申请人（脱敏）")
    ok: bool = Field(description="是否校验通过")
    verdict: str
    event_count: int
    pending: int = Field(description="尚未纳入默克尔提交的链环数（下次定时提交时纳入）")
    problems: list[ProblemOut]
    links: list[LinkOut]
    commit: CommitOut | None = Field(description="覆盖本办件的最近一次默克尔提交")
    inclusion: ProofOut | None
    latest_root: str | None = Field(description="最新提交根（可与公布的提交根比对）")


def result_payload(app, verification: services.CaseVerification) -> dict:
    commit = verification.commit
    leaf = services.covering_leaf(app, commit) if commit else None
    latest = services.latest_commit()
    return {
        "case_number": app.case_number,
        "item_name": app.implementation.basic_item.name,
        "applicant": mask_name(app.applicant_name),
        "ok": verification.ok,
        "verdict": verification.verdict,
        "event_count": verification.event_count,
        "pending": verification.pending,
        "problems": [
            {"code": p.code, "seq": p.seq, "action": p.action, "message": str(p)}
            for p in verification.problems
        ],
        "links": [
            {
                "seq": e.seq,
                "action": e.event.action if e.event else "",
                "action_name": e.label,
                "actor": e.actor,
                "at": e.event.created_at if e.event else None,
                "hash": e.hash,
                "ok": e.ok,
            }
            for e in verification.entries
        ],
        "commit": commit,
        "inclusion": leaf,
        "latest_root": latest.root if latest else None,
    }


@router.post("/verify", response=VerifyOut, summary="办件存证核验（办件编号 + 身份证号）")
def verify(request: HttpRequest, payload: VerifyIn):
    access.throttle_progress(client_ip(request))
    app = cases.public_lookup(payload.case_number, payload.id_number)
    if app is None:
        raise HttpError(404, NOT_FOUND)
    return result_payload(app, services.verify_case(app))
