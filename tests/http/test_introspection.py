"""``POST /auth/introspect`` (RFC 7662): other services learn that a token died with its session."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt

from sanic_auth_sessions import User, UserSession

from ..conftest import RunningApp, bearer
from ..helpers import assert_error, session_id

CLIENT_ID, SECRET = "orders-service", "s" * 40
CLIENTS = f'{{"{CLIENT_ID}": "{SECRET}"}}'
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def basic(client_id: str = CLIENT_ID, secret: str = SECRET) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", **FORM}


async def introspect(
    api: RunningApp, token: str, hint: str | None = None, **headers: str
) -> dict[str, Any]:
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    response = await api.client.post(
        api.url("/auth/introspect"), data=data, headers=headers or basic()
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def test_active_tokens_answer_their_claims(make_app: Any) -> None:
    api: RunningApp = await make_app(introspection_clients=CLIENTS)
    tokens = await api.user_with_tokens("ann@example.com")
    access = await introspect(api, tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["active"] is True and access["token_type"] == "access_token"
    assert access["username"] == "ann@example.com"
    for claim in ("sub", "sid", "jti", "iat", "exp", "iss", "aud"):
        assert access[claim] == claims[claim], claim
    refresh = await introspect(api, tokens["refresh_token"], hint="refresh_token")
    assert (refresh["active"], refresh["token_type"]) == (True, "refresh_token")
    # The hint only orders the attempts: a wrong one still finds the token.
    assert (await introspect(api, tokens["access_token"], hint="refresh_token"))["active"]
    # Introspection is no use of the session: last_used_at stays (a request would touch it).
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=10)
    await UserSession.filter(id=session_id(tokens)).update(last_used_at=long_ago)
    await introspect(api, tokens["access_token"])
    stored = (await UserSession.get(id=session_id(tokens))).last_used_at
    assert abs((stored - long_ago).total_seconds()) < 1


async def test_revocation_is_seen_on_the_next_request(make_app: Any) -> None:
    api: RunningApp = await make_app(introspection_clients=CLIENTS)
    tokens = await api.user_with_tokens("ann@example.com")
    other = await api.login("ann@example.com")
    assert (await introspect(api, tokens["access_token"]))["active"] is True
    revoked = await api.client.delete(
        api.url(f"/sessions/{session_id(tokens)}"), headers=bearer(other)
    )
    assert revoked.status_code == 200
    assert await introspect(api, tokens["access_token"]) == {"active": False}
    assert await introspect(api, tokens["refresh_token"]) == {"active": False}
    # An inactive user: every token inactive.
    assert (await introspect(api, other["access_token"]))["active"] is True
    await User.filter(email="ann@example.com").update(is_active=False)
    assert await introspect(api, other["access_token"]) == {"active": False}


async def test_rotated_expired_and_foreign_tokens_are_inactive(make_app: Any) -> None:
    api: RunningApp = await make_app(introspection_clients=CLIENTS, refresh_reuse_grace_s=0)
    tokens = await api.user_with_tokens("ann@example.com")
    rotated = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200
    # The replaced refresh token is inactive, and asking does not count as reuse.
    assert await introspect(api, tokens["refresh_token"]) == {"active": False}
    assert (await introspect(api, rotated.json()["refresh_token"]))["active"] is True
    assert (await UserSession.get(id=session_id(tokens))).is_active is True
    for junk in ("not-a-jwt", "", "a.b.c"):
        assert await introspect(api, junk) == {"active": False}
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    forged = jwt.encode({**claims, "exp": 1}, "another-secret-of-someone-else-0123456789")
    assert await introspect(api, forged) == {"active": False}


async def test_within_the_grace_the_just_rotated_refresh_token_is_active(make_app: Any) -> None:
    api: RunningApp = await make_app(introspection_clients=CLIENTS, refresh_reuse_grace_s=10)
    tokens = await api.user_with_tokens("ann@example.com")
    await api.client.post(api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    assert (await introspect(api, tokens["refresh_token"]))["active"] is True


async def test_clients_authenticate_with_basic(make_app: Any) -> None:
    api: RunningApp = await make_app(introspection_clients=CLIENTS)
    tokens = await api.user_with_tokens("ann@example.com")
    url = api.url("/auth/introspect")
    for headers in (
        FORM,
        basic(secret="wrong" * 8),
        basic(client_id="someone"),
        {"Authorization": "Basic !!!", **FORM},
        {"Authorization": f"Bearer {tokens['access_token']}", **FORM},
    ):
        refused = await api.client.post(url, data={"token": "x"}, headers=headers)
        assert refused.status_code == 401, refused.text
        assert refused.json()["errors"][0]["code"] == "INVALID_CLIENT"
        assert refused.headers["www-authenticate"] == 'Basic realm="introspection"'
    auth_only = {"Authorization": basic()["Authorization"]}
    as_json = await api.client.post(url, json={"token": "x"}, headers=auth_only)
    assert_error(as_json, 415)
    missing = await api.client.post(url, data={}, headers=basic())
    assert assert_error(missing, 422)["errors"][0]["field"] == "token"


async def test_without_clients_there_is_no_introspection(api: RunningApp) -> None:
    refused = await api.client.post(
        api.url("/auth/introspect"), data={"token": "x"}, headers=basic()
    )
    assert_error(refused, 404, "NOT_FOUND")


async def test_introspection_is_limited_per_client(make_app: Any) -> None:
    api: RunningApp = await make_app(
        introspection_clients=CLIENTS, rate_limit_enabled=True, rate_limit_introspect="2/minute"
    )
    statuses = []
    for _ in range(3):
        response = await api.client.post(
            api.url("/auth/introspect"), data={"token": "x"}, headers=basic()
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
