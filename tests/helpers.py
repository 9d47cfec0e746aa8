"""Assertions and constants shared by the test modules."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

ROOT_EMAIL = "root@example.com"  # the first superuser of the shared servers


async def until(condition: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait for work the server does in the background to get as far as ``condition``: a
    fixed sleep is too short on a busy machine (seen: 50 ms, on PostgreSQL in CI)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        await asyncio.sleep(0.01)


class TotpClock:
    """The clock by which the in-process test servers check TOTP codes (``MfaService.clock``,
    set by ``conftest.start_app``) and the tests compute them: the real time plus a skew that
    only grows. A test that needs time left in the current 30-second step moves the skew to the
    start of the next step instead of sleeping until then (``test_mfa.early_in_a_step``)."""

    def __init__(self) -> None:
        self.skew = 0.0

    def __call__(self) -> float:
        return time.time() + self.skew


TOTP_CLOCK = TotpClock()

USER_FIELDS = {
    "id",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_superuser",
    "is_verified",
    "mfa_enabled",
    "has_password",
    "created_at",
    "updated_at",
}


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["errors"] and all(
        set(error) == {"code", "message", "field"} for error in body["errors"]
    )
    if code is not None:
        assert body["errors"][0]["code"] == code, body
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    return body


SESSION_FIELDS = {
    "id",
    "device_name",
    "device_id",
    "ip_address",
    "user_agent",
    "location_city",
    "location_country",
    "last_used_at",
    "created_at",
    "expires_at",
    "auth_time",
    "amr",
    "is_current",
}


STALE_S = 301  # one second past AUTH_FRESH_AUTH_MAX_AGE_S's default


async def age_session(tokens: dict[str, Any], seconds: float = STALE_S) -> None:
    """Make the session of ``tokens`` authenticated ``seconds`` ago (its row's ``auth_time``):
    past ``AUTH_FRESH_AUTH_MAX_AGE_S`` it is no longer fresh; 0 makes it fresh again."""
    from sanic_auth_sessions.core.models import UserSession

    then = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    await UserSession.filter(id=session_id(tokens)).update(auth_time=then)


def session_id(tokens: dict[str, Any]) -> str:
    """The session id inside a login body's access token."""
    sid: str = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    return sid


def fill(value: Any, places: dict[str, str]) -> Any:
    """``value`` with ``{name}`` placeholders in its strings (nested lists and dicts too)
    replaced from ``places``: request bodies of the authorization matrices."""
    if isinstance(value, str):
        return value.format(**places)
    if isinstance(value, list):
        return [fill(item, places) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, places) for key, item in value.items()}
    return value


# An OpenID Connect provider configured at an address where nothing listens: its routes exist,
# its calls to the provider fail at once (502).
UNREACHABLE_OIDC_PROVIDERS = json.dumps(
    [
        {
            "name": "corp",
            "display_name": "Corp",
            "issuer": "http://127.0.0.1:9",
            "client_id": "id",
            "client_secret": "secret",
        }
    ]
)
