"""The committed OpenAPI document (docs/openapi.json) is an artefact: it must match the code."""

from pathlib import Path

from tongban.core.openapi import openapi_document

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code():
    assert DOCUMENT.exists(), "docs/openapi.json 不存在：请运行 make openapi 并提交。"
    assert DOCUMENT.read_text(encoding="utf-8") == openapi_document(), (
        "接口代码与已提交的 docs/openapi.json 不一致：请运行 make openapi 并提交。"
    )


def test_every_operation_has_a_chinese_summary():
    import json

    schema = json.loads(openapi_document())
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            summary = operation.get("summary", "")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in summary), f"{method.upper()} {path} 缺少中文摘要"
