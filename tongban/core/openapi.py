"""The OpenAPI document as a stable text, so the committed copy can be compared with the code."""

import json


def openapi_document() -> str:
    from tongban.api import api

    schema = api.get_openapi_schema(path_prefix="/api/")
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
