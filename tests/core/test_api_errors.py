"""Validation errors of the API answer in Chinese, whatever pydantic found."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel, Field, ValidationError

from tongban.core.api import _describe_validation_error


class Sample(BaseModel):
    count: int = Field(ge=1, le=200)
    name: str = Field(max_length=4)
    day: dt.date
    tags: list[str]


def _messages(data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as exc:
        Sample.model_validate(data)
    described = [_describe_validation_error(e) for e in exc.value.errors()]
    return {d["field"]: d["message"] for d in described}


def test_constraints_and_types_are_explained_in_chinese():
    assert _messages({"count": 500, "name": "太长的名字啊", "day": "2026-13-01", "tags": "x"}) == {
        "count": "不能大于 200",
        "name": "最多 4 个字符",
        "day": "应为日期（YYYY-MM-DD）",
        "tags": "应为列表",
    }
    assert _messages({"count": "x", "name": "a", "day": "2026-11-23", "tags": []}) == {"count": "应为整数"}
    assert _messages({"name": "a", "day": "2026-11-23", "tags": []}) == {"count": "此项为必填项"}


def test_unknown_kinds_fall_back_to_a_chinese_phrase():
    assert _describe_validation_error({"type": "something_new", "loc": ("query", "x"), "msg": "English"}) == {
        "field": "x",
        "message": "格式不正确",
    }
    ours = {"type": "value_error", "loc": ("body", "payload", "phone"), "msg": "Value error, 应为11位"}
    assert _describe_validation_error(ours) == {"field": "payload.phone", "message": "应为11位"}


@pytest.mark.django_db
def test_queue_limit_beyond_200_is_refused_in_chinese(client):
    from tests.cases import factories as cf
    from tests.catalog.factories import login_staff

    impl = cf.item()
    login_staff(client, cf.clerk(impl.organisation))
    answer = client.get("/api/cases/queue", {"limit": 500})
    assert answer.status_code == 422
    assert answer.json()["message"] == "提交的内容有误：limit：不能大于 200"
