"""The platform's one HTTP API (OpenAPI 3 at /api/openapi.json, docs at /api/docs).

Each capability app contributes a ninja Router from its own ``api.py``; add it here.
"""

from ninja import NinjaAPI

from tongban.accounts.api import router as accounts_router
from tongban.bundles.api import router as bundles_router
from tongban.cases.api import router as cases_router
from tongban.catalog.api import router as catalog_router
from tongban.core.api import router as core_router
from tongban.ledger.api import router as ledger_router
from tongban.supervision.api import router as supervision_router
from tongban.workflow.api import router as workflow_router
from tongban.workflow.api_definitions import router as workflow_definitions_router
from tongban.workflow.api_smart import router as workflow_smart_router

api = NinjaAPI(
    title="通办 API",
    version="1",
    description=(
        '一体化在线政务服务平台接口。错误响应统一为 {"code": ..., "message": ...}，message 为中文说明。'
    ),
    urls_namespace="api",
)
api.add_router("/core/", core_router)
api.add_router("/accounts/", accounts_router)
api.add_router("/catalog/", catalog_router)
api.add_router("/cases/", cases_router)
api.add_router("/workflow/definitions", workflow_definitions_router)
api.add_router("/workflow/smart", workflow_smart_router)
api.add_router("/workflow/", workflow_router)
api.add_router("/ledger/", ledger_router)
api.add_router("/bundles/", bundles_router)
api.add_router("/supervision/", supervision_router)

from tongban.core.api import install_error_handlers  # noqa: E402

install_error_handlers(api)
