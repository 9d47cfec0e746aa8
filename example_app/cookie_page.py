"""A page of the example app that signs in with the cookie transport (``/cookie-demo``).

The page's script never sees a token: the access and refresh tokens live in HttpOnly cookies.
It reads the CSRF cookie and sends it back as ``X-CSRF-Token`` on every unsafe request, and
asks for cookies with ``X-Auth-Transport: cookie`` (the example app runs ``AUTH_TRANSPORT=both``,
so bearer clients keep working beside it).
"""

from __future__ import annotations

import json

from sanic import HTTPResponse, Request, Sanic, html
from sanic.response import raw
from sanic_ext import openapi

# The page loads its script from the same origin and talks to the same origin only.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Cookie sign-in</title></head>
<body>
<h1>Cookie sign-in</h1>
<p>The tokens are in HttpOnly cookies; this page only ever reads the CSRF cookie.</p>
<form id="login">
  <label>Email <input id="email" name="email" type="email" autocomplete="username"></label>
  <label>Password <input id="password" name="password" type="password"
    autocomplete="current-password"></label>
  <button id="login-button" type="submit">Log in</button>
</form>
<p>
  <button id="me" type="button">Who am I?</button>
  <button id="hello" type="button">Say hello</button>
  <button id="refresh" type="button">Refresh</button>
  <button id="logout" type="button">Log out</button>
</p>
<pre id="out" data-status="">Not signed in yet.</pre>
<script src="/cookie-demo.js"></script>
</body>
</html>
"""

SCRIPT = """"use strict";
const prefix = %(prefix)s;
const csrfCookie = %(csrf_cookie)s;
const out = document.getElementById("out");

function csrfToken() {
  for (const part of document.cookie.split("; ")) {
    const [name, ...value] = part.split("=");
    if (name === csrfCookie) return decodeURIComponent(value.join("="));
  }
  return "";
}

async function call(method, path, body) {
  const headers = {"X-Auth-Transport": "cookie", "X-CSRF-Token": csrfToken()};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  out.textContent = `${method} ${path}: ${response.status}\\n${await response.text()}`;
  out.dataset.status = String(response.status);
}

document.getElementById("login").addEventListener("submit", (event) => {
  event.preventDefault();
  call("POST", `${prefix}/auth/login`, {
    email: document.getElementById("email").value,
    password: document.getElementById("password").value,
  });
});
document.getElementById("me").addEventListener("click", () => call("GET", `${prefix}/users/me`));
document.getElementById("hello").addEventListener("click", () => call("GET", "/api/v1/hello"));
document.getElementById("refresh").addEventListener("click", () =>
  call("POST", `${prefix}/auth/refresh`));
document.getElementById("logout").addEventListener("click", () =>
  call("POST", `${prefix}/auth/logout`));
"""


def add_cookie_page(app: Sanic) -> None:
    """``GET /cookie-demo`` and its script."""

    @app.get("/cookie-demo")
    @openapi.exclude()  # a page, not part of the API
    async def cookie_demo(request: Request) -> HTTPResponse:
        return html(PAGE, headers={"Content-Security-Policy": PAGE_CSP})

    @app.get("/cookie-demo.js")
    @openapi.exclude()
    async def cookie_demo_script(request: Request) -> HTTPResponse:
        settings = request.app.ctx.auth_settings
        script = SCRIPT % {
            "prefix": json.dumps(settings.url_prefix.rstrip("/")),
            "csrf_cookie": json.dumps(settings.cookie_csrf_name),
        }
        return raw(
            script.encode(),
            content_type="text/javascript; charset=utf-8",
            headers={"Content-Security-Policy": PAGE_CSP},
        )
