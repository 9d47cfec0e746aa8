"""A real OpenID Connect provider on loopback for the social-login tests, and a browser stand-in.

The provider is the certified ``oidc-provider`` package on Node (``tests/oidc/provider.mjs``,
its version pinned by ``tests/oidc/package-lock.json``). ``npm ci`` installs it into
``tests/oidc/node_modules`` (outside git) the first time; CI does so in ``.ci/run``. Without
Node, npm or the package the tests skip with the reason, unless ``SANIC_AUTH_REQUIRE_BROWSER=1``
(set in CI) turns the skip into a failure.

:func:`sign_in_at_provider` plays the browser: it follows the provider's redirects, fills its
login form with the account's name, and stops at the redirect to the front end's callback page,
returning the ``code`` and ``state`` that page would receive.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from .serving import loopback_client

OIDC_DIR = Path(__file__).resolve().parent / "oidc"
START_TIMEOUT_S = 20
FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S | re.I)
HIDDEN = re.compile(r"<input\b[^>]*type=\"hidden\"[^>]*>", re.I)
ATTRIBUTE = re.compile(r"(\w+)=\"([^\"]*)\"")


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("SANIC_AUTH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"the OpenID Connect provider is required but {reason}")
    pytest.skip(reason)


def ensure_installed() -> str:
    """The path of ``node``, with ``oidc-provider`` installed (``npm ci`` when missing)."""
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js is not installed (apt-get install -y nodejs npm)")
    if not (OIDC_DIR / "node_modules" / "oidc-provider").is_dir():
        npm = shutil.which("npm")
        if npm is None:
            unavailable("npm is not installed (apt-get install -y npm)")
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=OIDC_DIR,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            unavailable(f"npm ci failed in tests/oidc: {done.stderr.strip()[-500:]}")
    return node


REDIRECT_URI = "http://app.example/auth/callback/{provider}"
# The provider's accounts, by login name (also their ``sub``).
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {
        "email": "alice@example.com",
        "email_verified": True,
        "given_name": "Alice",
        "family_name": "Liddell",
    },
    "bob": {"email": "bob@example.com", "email_verified": False, "name": "Bob Stone"},
    "carol": {"email": "Carol@Example.com", "email_verified": True, "name": "Carol Ann Danvers"},
    "dave": {"name": "Dave"},
    "erin": {"email": "erin@example.com", "email_verified": True, "name": "Erin"},
    "frank": {"email": "frank@example.com", "email_verified": True},
}


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str
    process: subprocess.Popen[str]
    log: list[str]


def start_provider(
    *, client_id: str, client_secret: str, redirect_uris: list[str], accounts: Mapping[str, Any]
) -> OidcProvider:
    node = ensure_installed()
    config = {
        "port": 0,
        "clients": [
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": redirect_uris,
            }
        ],
        "accounts": dict(accounts),
    }
    process = subprocess.Popen(
        [node, "provider.mjs"],
        cwd=OIDC_DIR,
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log: list[str] = []
    ready = threading.Event()
    issuer: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            log.append(line.rstrip())
            if line.startswith("ready "):
                issuer.append(line.split()[1])
                ready.set()
        ready.set()  # the process ended

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(START_TIMEOUT_S) or not issuer:
        process.kill()
        process.wait()
        unavailable("the OpenID Connect provider did not start: " + " | ".join(log[-10:]))
    return OidcProvider(issuer[0], client_id, client_secret, process, log)


def stop_provider(provider: OidcProvider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait()


def _form(html: str, base: str) -> tuple[str, dict[str, str]]:
    match = FORM.search(html)
    assert match, f"no form on the provider's page: {html[:500]}"
    action = urljoin(base, unescape(match.group(1)))
    fields: dict[str, str] = {}
    for tag in HIDDEN.findall(match.group(2)):
        attributes = dict(ATTRIBUTE.findall(tag))
        if "name" in attributes:
            fields[attributes["name"]] = unescape(attributes.get("value", ""))
    return action, fields


async def sign_in_at_provider(
    authorization_url: str, login: str, *, redirect_prefix: str = "http://app.example/"
) -> dict[str, str]:
    """Follow the flow a browser would, signing in as ``login``; the query parameters the
    provider sends to the front end's callback page (``code``, ``state``, ``iss`` or
    ``error``)."""
    async with loopback_client(timeout=30) as browser:
        response = await browser.get(authorization_url)
        for _ in range(20):
            if response.is_redirect:
                location = urljoin(str(response.url), response.headers["location"])
                if location.startswith(redirect_prefix):
                    query = parse_qs(urlsplit(location).query)
                    return {key: values[0] for key, values in query.items()}
                response = await browser.get(location)
                continue
            assert response.status_code == 200, response.text[:1000]
            action, fields = _form(response.text, str(response.url))
            if fields.get("prompt") == "login":
                fields.update(login=login, password="any password")
            response = await browser.post(action, data=fields)
        raise AssertionError("the provider's flow did not reach the callback")
