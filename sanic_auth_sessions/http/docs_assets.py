"""Swagger UI and ReDoc served by the app itself, so the docs pages work offline.

sanic-ext's pages load their scripts from CDNs (ReDoc's ``latest``, unpinned) and Google Fonts:
blank pages wherever the network is closed. The pinned copies of the ``openapi-ui-bundles``
package are served under ``<OAS_URL_PREFIX>/assets/`` instead, with page templates of our own
that load nothing else. A host that configured another CDN URL or template keeps its choice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openapi_ui_bundles import redoc, swagger_ui
from sanic import Sanic

TEMPLATES = Path(__file__).parent / "docs_ui"
# sanic-ext's defaults: replaced only when the host left them as they are.
SANIC_EXT_SWAGGER_CDN = "https://cdnjs.cloudflare.com/ajax/libs/swagger-ui"
SANIC_EXT_REDOC_CDN = "https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"
# The one inline <style> the pinned Swagger UI adds at run time (in its logo's SVG), allowed by
# its hash on the page that serves it; the browser test fails if a new bundle adds another.
SWAGGER_UI_STYLE_HASHES = ("'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='",)
# Swagger UI opens with the operations folded: the tags are the table of contents.
SWAGGER_UI_SETTINGS = {"docExpansion": "none"}


def openapi_enabled(app: Sanic[Any, Any]) -> bool:
    """sanic-ext's switch for the OpenAPI document and its pages (``OAS``, on by default)."""
    return bool(app.config.get("OAS", True))


def serves_swagger_ui(app: Sanic[Any, Any]) -> bool:
    """Whether the Swagger UI page is ours (its template and pinned assets)."""
    return bool(app.config.get("OAS_PATH_TO_SWAGGER_HTML") == str(TEMPLATES / "swagger.html"))


def serve_docs_assets(app: Sanic[Any, Any]) -> None:
    config = app.config
    prefix = "/" + str(config.get("OAS_URL_PREFIX", "/docs")).strip("/")
    assets = prefix.rstrip("/") + "/assets"
    if config.get("OAS_UI_SWAGGER", True) and config.get(
        "OAS_UI_SWAGGER_CDN_URL", SANIC_EXT_SWAGGER_CDN
    ) in (SANIC_EXT_SWAGGER_CDN, None):
        config.OAS_UI_SWAGGER_CDN_URL = f"{assets}/swagger-ui"
        config.OAS_PATH_TO_SWAGGER_HTML = config.get("OAS_PATH_TO_SWAGGER_HTML") or str(
            TEMPLATES / "swagger.html"
        )
        app.static(f"{assets}/swagger-ui", swagger_ui.static_path, name="auth_docs_swagger_ui")
    if config.get("OAS_UI_REDOC", True) and config.get(
        "OAS_UI_REDOC_CDN_URL", SANIC_EXT_REDOC_CDN
    ) in (SANIC_EXT_REDOC_CDN, None):
        config.OAS_UI_REDOC_CDN_URL = f"{assets}/redoc/redoc.standalone.js"
        config.OAS_PATH_TO_REDOC_HTML = config.get("OAS_PATH_TO_REDOC_HTML") or str(
            TEMPLATES / "redoc.html"
        )
        app.static(f"{assets}/redoc", redoc.static_path, name="auth_docs_redoc")
    swagger_settings = dict(config.get("SWAGGER_UI_CONFIGURATION") or {})
    if swagger_settings.get("docExpansion", "full") == "full":
        swagger_settings.update(SWAGGER_UI_SETTINGS)
        config.SWAGGER_UI_CONFIGURATION = swagger_settings
