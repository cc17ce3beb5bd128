"""The platform's one HTTP API (OpenAPI 3 at /api/openapi.json, docs at /api/docs).

Each capability app contributes a ninja Router from its own ``api.py``; add it here.
"""

from ninja import NinjaAPI

from tongban.accounts.api import router as accounts_router
from tongban.cases.api import router as cases_router
from tongban.catalog.api import router as catalog_router
from tongban.core.api import router as core_router

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

from tongban.core.api import install_error_handlers  # noqa: E402

install_error_handlers(api)
