"""Security headers on every response: computed once at install, per request only chosen.

Three kinds of response get a Content-Security-Policy (per ``AUTH_CSP_MODE``):

- the API, health and host routes: ``strict`` (nothing may load) or ``relaxed`` (same-origin
  pages work);
- the sanic-ext OpenAPI pages (``/docs``, ``/docs/swagger``, ``/docs/redoc``, the OAuth2
  redirect): a policy that lets Swagger UI or ReDoc load from the CDN configured in
  ``OAS_UI_SWAGGER_CDN_URL`` / ``OAS_UI_REDOC_CDN_URL`` and run the page's own inline script
  and style, allowed by their SHA-256 hashes rather than by ``'unsafe-inline'``;
- ``disabled``: no CSP header at all (the other headers stay).

A header the route already set is never overwritten, so a host route can choose its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sanic import Request, Sanic
from sanic.response import BaseHTTPResponse

from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.http.docs_assets import (
    SANIC_EXT_REDOC_CDN,
    SANIC_EXT_SWAGGER_CDN,
    SWAGGER_UI_STYLE_HASHES,
    openapi_enabled,
    serves_swagger_ui,
)

CSP_HEADER = "content-security-policy"
HSTS_VALUE = "max-age=63072000; includeSubDomains"  # two years
# Full URL to the origin on cross-origin navigations, origin only when leaving for another
# site, nothing on HTTPS -> HTTP. ``no-referrer`` would also make browsers send
# ``Origin: null`` on same-origin form and fetch POSTs, which breaks origin checks.
REFERRER_POLICY = "strict-origin-when-cross-origin"
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
BASE_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", REFERRER_POLICY),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)

STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
RELAXED_CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CSP_BY_MODE: dict[str, str | None] = {
    "strict": STRICT_CSP,
    "relaxed": RELAXED_CSP,
    "disabled": None,
}

# The ReDoc template links Google Fonts itself (not configurable in sanic-ext).
REDOC_FONT_STYLES = "https://fonts.googleapis.com"
REDOC_FONT_FILES = "https://fonts.gstatic.com"
# ReDoc's bundle shows its "API docs by Redocly" logo from its own CDN, whatever is configured.
REDOC_LOGO = "https://cdn.redoc.ly"
# sanic-ext's defaults, used when the app was configured without sanic-ext's own fallbacks.
OAS_DEFAULTS: dict[str, object] = {
    "OAS_URL_PREFIX": "/docs",
    "OAS_UI_DEFAULT": "redoc",
    "OAS_UI_SWAGGER": True,
    "OAS_URI_TO_SWAGGER": "/swagger",
    "OAS_UI_SWAGGER_CDN_URL": SANIC_EXT_SWAGGER_CDN,
    "OAS_UI_SWAGGER_OAUTH2_REDIRECT": "/oauth2-redirect.html",
    "OAS_UI_REDOC": True,
    "OAS_URI_TO_REDOC": "/redoc",
    "OAS_UI_REDOC_CDN_URL": SANIC_EXT_REDOC_CDN,
}
UNSAFE_INLINE = "'unsafe-inline'"
INLINE_BLOCK = re.compile(
    r"<(script|style)\b([^>]*)>(.*?)</\1\s*>", flags=re.IGNORECASE | re.DOTALL
)
SRC_ATTRIBUTE = re.compile(r"\bsrc\s*=", flags=re.IGNORECASE)


@dataclass(frozen=True)
class DocsPolicy:
    """What one docs page may load; its inline hashes are added from the page itself."""

    script_sources: tuple[str, ...]
    style_sources: tuple[str, ...]
    image_sources: tuple[str, ...] = ("'self'", "data:")
    font_sources: tuple[str, ...] = ()
    worker_sources: tuple[str, ...] = ()

    def render(self, script_hashes: Iterable[str], style_hashes: Iterable[str]) -> str:
        if UNSAFE_INLINE in self.style_sources:
            style_hashes = ()  # a hash would make browsers ignore 'unsafe-inline'
        directives = [
            ("default-src", ("'none'",)),
            ("script-src", (*self.script_sources, *script_hashes)),
            ("style-src", (*self.style_sources, *style_hashes)),
            ("img-src", self.image_sources),
            ("font-src", self.font_sources),
            ("connect-src", ("'self'",)),
            ("worker-src", self.worker_sources),
            ("base-uri", ("'none'",)),
            ("form-action", ("'self'",)),
            ("frame-ancestors", ("'none'",)),
        ]
        return "; ".join(
            f"{name} {' '.join(_unique(sources))}" for name, sources in directives if sources
        )


@dataclass
class SecurityHeaders:
    """Frozen at install; ``docs_csp`` fills once per docs page, on its first response."""

    base: tuple[tuple[str, str], ...]
    csp: str | None
    docs_pages: dict[str, DocsPolicy]
    docs_csp: dict[str, str] = field(default_factory=dict)

    def apply(self, request: Request, response: BaseHTTPResponse) -> None:
        headers = response.headers
        for name, value in self.base:
            if name not in headers:
                headers[name] = value
        if self.csp is None or CSP_HEADER in headers:
            return
        path = request.path.rstrip("/") or "/"
        policy = self.docs_pages.get(path)
        headers[CSP_HEADER] = self.csp if policy is None else self._docs(path, policy, response)

    def _docs(self, path: str, policy: DocsPolicy, response: BaseHTTPResponse) -> str:
        csp = self.docs_csp.get(path)
        if csp is None:
            body = response.body.decode("utf-8", "replace") if response.body else ""
            csp = policy.render(*inline_hashes(body))
            if response.status == 200:  # an error page is not the page to remember
                self.docs_csp[path] = csp
        return csp


def install_security_headers(app: Sanic[Any, Any], settings: AuthSettings) -> None:
    """Add the security headers to every response of ``app``."""
    if not settings.security_headers_enabled:
        return
    base = BASE_HEADERS
    if settings.is_production:
        base = (*base, ("Strict-Transport-Security", HSTS_VALUE))
    security = SecurityHeaders(
        base=base, csp=CSP_BY_MODE[settings.csp_mode], docs_pages=docs_pages(app)
    )
    app.ctx.auth_security_headers = security

    async def add_security_headers(request: Request, response: BaseHTTPResponse) -> None:
        security.apply(request, response)

    app.register_middleware(add_security_headers, "response")


def docs_pages(app: Sanic[Any, Any]) -> dict[str, DocsPolicy]:
    """The sanic-ext OpenAPI UI paths, each with what its page must load."""

    def setting(key: str) -> object:
        return app.config.get(key, OAS_DEFAULTS[key])

    if not openapi_enabled(app):
        return {}
    prefix = "/" + str(setting("OAS_URL_PREFIX")).strip("/")
    swagger = DocsPolicy(
        script_sources=_origins(setting("OAS_UI_SWAGGER_CDN_URL")),
        style_sources=(
            *_origins(setting("OAS_UI_SWAGGER_CDN_URL")),
            *(SWAGGER_UI_STYLE_HASHES if serves_swagger_ui(app) else ()),
        ),
    )
    # sanic-ext's own ReDoc template links Google Fonts; ours (docs_assets.py) does not.
    google_fonts = not app.config.get("OAS_PATH_TO_REDOC_HTML")
    redoc = DocsPolicy(
        script_sources=_origins(setting("OAS_UI_REDOC_CDN_URL")),
        # ReDoc styles itself with styled-components, which injects <style> elements at run
        # time: they cannot be hashed in advance, so this page needs 'unsafe-inline' styles.
        style_sources=(UNSAFE_INLINE, *((REDOC_FONT_STYLES,) if google_fonts else ())),
        image_sources=("'self'", "data:", REDOC_LOGO),
        font_sources=(REDOC_FONT_FILES,) if google_fonts else (),
        # Its search index runs in a worker built from a blob: URL.
        worker_sources=("blob:",),
    )
    pages: dict[str, DocsPolicy] = {}
    for ui, policy in (("swagger", swagger), ("redoc", redoc)):
        if not setting(f"OAS_UI_{ui.upper()}"):
            continue
        pages[_join(prefix, setting(f"OAS_URI_TO_{ui.upper()}"))] = policy
        if setting("OAS_UI_DEFAULT") == ui:
            pages[prefix] = policy
    if setting("OAS_UI_SWAGGER"):
        redirect = _join(prefix, setting("OAS_UI_SWAGGER_OAUTH2_REDIRECT"))
        pages[redirect] = DocsPolicy(script_sources=(), style_sources=())
    return pages


def inline_hashes(page: str) -> tuple[list[str], list[str]]:
    """CSP source expressions (``'sha256-…'``) for the page's inline scripts and styles."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in INLINE_BLOCK.finditer(page):
        tag, attributes, content = match.group(1).lower(), match.group(2), match.group(3)
        if tag == "script" and SRC_ATTRIBUTE.search(attributes):
            continue
        digest = base64.b64encode(hashlib.sha256(content.encode("utf-8")).digest()).decode()
        (scripts if tag == "script" else styles).append(f"'sha256-{digest}'")
    return scripts, styles


def _origins(url: object) -> tuple[str, ...]:
    """The origin of a configured asset URL; ``'self'`` for a path on this app."""
    parts = urlsplit(str(url or ""))
    if parts.scheme and parts.netloc:
        return (f"{parts.scheme}://{parts.netloc}",)
    if parts.netloc:  # protocol-relative: //cdn.example.com/...
        return (f"https://{parts.netloc}",)
    return ("'self'",)


def _join(prefix: str, uri: object) -> str:
    return (prefix.rstrip("/") + "/" + str(uri).strip("/")).rstrip("/") or "/"


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
