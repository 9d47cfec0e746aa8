"""Step-up re-authentication over HTTP: fresh sessions, ``POST /auth/reauthenticate``, proofs
in the bodies of the sensitive routes, the ``auth_time``/``amr`` of sessions and access tokens.

A session is made stale by moving its row's ``auth_time`` back (:func:`age_session`): the rule
reads the row, never the token.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import jwt
from sanic import HTTPResponse, Request, Sanic, json

from sanic_auth_sessions import current_auth, require_fresh_auth
from sanic_auth_sessions.core.models import SecurityEvent, User, UserSession

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import age_session, assert_error, session_id
from .test_mfa import code, early_in_a_step, enable_mfa, mfa_token_of, second_step

REAUTHENTICATE = "/auth/reauthenticate"
FRESH_S = 300  # AUTH_FRESH_AUTH_MAX_AGE_S's default


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


async def reauthenticate(api: RunningApp, tokens: dict[str, Any], **proof: Any) -> Any:
    return await api.client.post(api.url(REAUTHENTICATE), json=proof, headers=bearer(tokens))


async def change_password(api: RunningApp, tokens: dict[str, Any], **body: Any) -> Any:
    return await api.client.patch(
        api.url("/users/me/password"),
        json={"new_password": OTHER_STRONG_PASSWORD, **body},
        headers=bearer(tokens),
    )


async def current_session(api: RunningApp, tokens: dict[str, Any]) -> dict[str, Any]:
    listed = await api.client.get(api.url("/sessions/me"), headers=bearer(tokens))
    assert listed.status_code == 200, listed.text
    first: dict[str, Any] = listed.json()["sessions"][0]
    assert first["is_current"] is True
    return first


async def test_a_login_and_its_refreshes_carry_the_sessions_authentication(
    api: RunningApp,
) -> None:
    before = int(time.time())
    tokens = await api.user_with_tokens("ida@example.com")
    access = claims_of(tokens["access_token"])
    assert access["amr"] == ["pwd"]
    assert before <= access["auth_time"] <= int(time.time())
    assert "auth_time" not in claims_of(tokens["refresh_token"])
    session = await current_session(api, tokens)
    assert session["amr"] == ["pwd"]
    assert int(datetime.fromisoformat(session["auth_time"]).timestamp()) == access["auth_time"]

    # A refresh keeps the session's authentication: its stored time, not the refresh's.
    await age_session(tokens, 1000)
    row = await UserSession.get(id=session_id(tokens))
    assert row.auth_time is not None
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    again = claims_of(refreshed.json()["access_token"])
    assert again["auth_time"] == int(row.auth_time.timestamp())
    assert again["amr"] == ["pwd"]


async def test_a_stale_session_must_reauthenticate_and_then_is_fresh(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("jay@example.com")
    me = bearer(tokens)
    await age_session(tokens)
    refused = await change_password(api, tokens)
    assert assert_error(refused, 403, "REAUTHENTICATION_REQUIRED")["errors"][0]["field"] is None
    moved = await api.client.post(
        api.url("/users/me/email"), json={"new_email": "jay2@example.com"}, headers=me
    )
    assert_error(moved, 403, "REAUTHENTICATION_REQUIRED")
    assert_error(await api.client.delete(api.url("/users/me"), headers=me), 403)
    assert (await User.get(email="jay@example.com")).is_active

    before = int(time.time())
    done = await reauthenticate(api, tokens, password=STRONG_PASSWORD)
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    assert done.headers["pragma"] == "no-cache"
    body = done.json()
    assert set(body) == {
        "success",
        "message",
        "access_token",
        "token_type",
        "expires_in",
        "auth_time",
        "fresh_until",
    }
    assert body["success"] is True and body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    auth_time = datetime.fromisoformat(body["auth_time"])
    assert datetime.fromisoformat(body["fresh_until"]) - auth_time == timedelta(seconds=FRESH_S)
    access = claims_of(body["access_token"])
    assert access["sid"] == session_id(tokens) and access["sub"] == tokens["user"]["id"]
    assert access["amr"] == ["pwd"]
    assert access["auth_time"] == int(auth_time.timestamp()) >= before
    # The session row is fresh: any of its access tokens may now act, the old one too.
    changed = await change_password(api, tokens)
    assert changed.status_code == 200, changed.text
    event = await SecurityEvent.filter(
        type="session.reauthenticated", session_id=session_id(tokens)
    ).first()
    assert event is not None and event.data == {"method": "password"}
    mine = await api.client.get(api.url("/users/me/security-events"), headers=me)
    assert "session.reauthenticated" not in {e["type"] for e in mine.json()["data"]}


async def test_a_proof_in_the_body_reauthenticates_the_session(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("kim@example.com")
    await age_session(tokens)
    changed = await change_password(api, tokens, current_password=STRONG_PASSWORD)
    assert changed.status_code == 200, changed.text
    row = await UserSession.get(id=session_id(tokens))
    assert row.auth_time is not None and row.amr == "pwd"
    assert (datetime.now(row.auth_time.tzinfo) - row.auth_time).total_seconds() < 30
    # Fresh again: the next sensitive request needs no proof.
    moved = await api.client.post(
        api.url("/users/me/email"), json={"new_email": "kim2@example.com"}, headers=bearer(tokens)
    )
    assert moved.status_code == 202, moved.text


async def test_a_proof_sent_is_checked_even_in_a_fresh_session(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("lou@example.com")
    wrong = await change_password(api, tokens, current_password="not the password")
    body = assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    assert body["errors"][0]["field"] == "current_password"
    no_proof = await change_password(api, tokens)  # fresh: no proof needed
    assert no_proof.status_code == 200, no_proof.text
    bad = await reauthenticate(api, tokens, password="not the password")
    assert assert_error(bad, 403, "AUTH_WRONG_PASSWORD")["errors"][0]["field"] == "password"


async def test_reauthenticate_takes_exactly_one_proof_the_account_can_use(
    api: RunningApp,
) -> None:
    tokens = await api.user_with_tokens("max@example.com")
    for body in ({}, {"password": STRONG_PASSWORD, "code": "123456"}):
        refused = await reauthenticate(api, tokens, **body)
        assert assert_error(refused, 422)["errors"][0]["field"] == "password"
    no_mfa = await reauthenticate(api, tokens, code="123456")
    assert assert_error(no_mfa, 422)["errors"][0]["field"] == "code"
    no_mfa = await reauthenticate(api, tokens, recovery_code="abcde-fghij")
    assert assert_error(no_mfa, 422)["errors"][0]["field"] == "recovery_code"
    anonymous = await api.client.post(api.url(REAUTHENTICATE), json={"password": "x"})
    assert_error(anonymous, 401)


async def test_accounts_with_mfa_prove_with_a_code(api: RunningApp) -> None:
    await early_in_a_step()
    account = await enable_mfa(api, "nia@example.com")
    secret = account["secret"]
    # A two-step login: password, then a code.
    token = await mfa_token_of(api, "nia@example.com")
    login = await second_step(api, token, code=code(secret, 0))
    assert login.status_code == 200, login.text
    tokens = login.json()
    assert claims_of(tokens["access_token"])["amr"] == ["pwd", "otp", "mfa"]
    assert (await current_session(api, tokens))["amr"] == ["pwd", "otp", "mfa"]

    # A password alone is no proof for this account.
    alone = await reauthenticate(api, tokens, password=STRONG_PASSWORD)
    assert assert_error(alone, 422)["errors"][0]["field"] == "password"
    await age_session(tokens)
    only_password = await change_password(api, tokens, current_password=STRONG_PASSWORD)
    assert_error(only_password, 403, "REAUTHENTICATION_REQUIRED")
    wrong_code = await change_password(api, tokens, code=code(secret, 0))  # already used
    assert assert_error(wrong_code, 403, "MFA_CODE_INVALID")["errors"][0]["field"] == "code"

    done = await reauthenticate(api, tokens, code=code(secret, 1))
    assert done.status_code == 200, done.text
    assert claims_of(done.json()["access_token"])["amr"] == ["otp"]
    assert (await current_session(api, tokens))["amr"] == ["otp"]

    # A recovery code in the body of a sensitive route re-authenticates too.
    await age_session(tokens)
    recovered = await change_password(api, tokens, recovery_code=account["recovery_codes"][0])
    assert recovered.status_code == 200, recovered.text
    row = await UserSession.get(id=session_id(tokens))
    assert row.amr == "otp" and row.auth_time is not None
    assert (datetime.now(row.auth_time.tzinfo) - row.auth_time).total_seconds() < 30


async def test_wrong_proofs_count_toward_the_lockout(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=2)
    tokens = await api.user_with_tokens("oda@example.com")
    wrong = await reauthenticate(api, tokens, password="not the password")
    assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    wrong = await change_password(api, tokens, current_password="not the password either")
    assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    # The third attempt is refused unchecked, right or wrong.
    locked = await reauthenticate(api, tokens, password=STRONG_PASSWORD)
    assert_error(locked, 429, "ACCOUNT_LOCKED")
    # Without a proof nothing is counted or refused: the fresh session still acts.
    fresh = await change_password(api, tokens)
    assert fresh.status_code == 200, fresh.text


async def test_a_superuser_changing_credentials_needs_a_fresh_session(api: RunningApp) -> None:
    await api.register("boss@example.com")
    await User.filter(email="boss@example.com").update(is_superuser=True)
    root = await api.login("boss@example.com")
    target = await api.register("pat@example.com")
    url = api.url(f"/admin/users/{target['id']}")
    await age_session(root)
    for body in ({"is_superuser": True}, {"email": "pat2@example.com"}, {"password": "x" * 20}):
        refused = await api.client.patch(url, json=body, headers=bearer(root))
        assert_error(refused, 403, "REAUTHENTICATION_REQUIRED")
    created = await api.client.post(
        api.url("/admin/users"),
        json={"email": "new-pat@example.com", "password": STRONG_PASSWORD},
        headers=bearer(root),
    )
    assert_error(created, 403, "REAUTHENTICATION_REQUIRED")
    named = await api.client.patch(url, json={"first_name": "Pat"}, headers=bearer(root))
    assert named.status_code == 200, named.text
    assert not (await User.get(id=target["id"])).is_superuser
    assert (await reauthenticate(api, root, password=STRONG_PASSWORD)).status_code == 200
    promoted = await api.client.patch(url, json={"is_superuser": True}, headers=bearer(root))
    assert promoted.status_code == 200, promoted.text


async def test_deleting_my_account_takes_a_proof_in_an_optional_body(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("quin@example.com")
    await age_session(tokens)
    url = api.url("/users/me")
    wrong = await api.client.request(
        "DELETE", url, json={"current_password": "nope"}, headers=bearer(tokens)
    )
    assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    done = await api.client.request(
        "DELETE", url, json={"current_password": STRONG_PASSWORD}, headers=bearer(tokens)
    )
    assert done.status_code == 200, done.text
    assert not (await User.get(email="quin@example.com")).is_active


def fresh_host_route(app: Sanic) -> None:
    @app.get("/api/v1/host/sensitive")
    @require_fresh_auth(max_age_s=60)
    async def sensitive(request: Request) -> HTTPResponse:
        return json({"email": current_auth(request).user.email})


async def test_require_fresh_auth_guards_a_host_route(make_app: Any) -> None:
    api: RunningApp = await make_app(setup=fresh_host_route)
    tokens = await api.user_with_tokens("rae@example.com")
    url = "/api/v1/host/sensitive"
    assert (await api.client.get(url, headers=bearer(tokens))).json() == {
        "email": "rae@example.com"
    }
    await age_session(tokens, 61)  # its own limit, shorter than the default
    assert_error(
        await api.client.get(url, headers=bearer(tokens)), 403, "REAUTHENTICATION_REQUIRED"
    )
    assert_error(await api.client.get(url), 401)
    assert (await reauthenticate(api, tokens, password=STRONG_PASSWORD)).status_code == 200
    assert (await api.client.get(url, headers=bearer(tokens))).status_code == 200
