from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from sanic_auth_sessions.core.models import PasswordResetToken, User, UserSession

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import USER_FIELDS, assert_error

# --- register ---------------------------------------------------------------------------


async def test_register_returns_the_user_without_password(api: RunningApp) -> None:
    user = await api.register("Ada@Example.com", first_name="Ada", last_name="Lovelace")
    assert set(user) == USER_FIELDS
    assert user["email"] == "ada@example.com"
    assert (user["first_name"], user["last_name"]) == ("Ada", "Lovelace")
    assert user["is_active"] is True and user["is_superuser"] is False
    assert user["created_at"].endswith("+00:00")
    stored = await User.get(id=user["id"])
    assert stored.hashed_password.startswith("$2")


async def test_register_email_taken_is_case_insensitive(api: RunningApp) -> None:
    await api.register("bob@example.com")
    response = await api.client.post(
        api.url("/auth/register"), json={"email": "BOB@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(response, 409, "EMAIL_TAKEN")
    assert await User.filter(email="bob@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "code", "words"),
    [
        ("short1!", "PASSWORD_TOO_SHORT", "too short"),
        ("password1234", "PASSWORD_TOO_COMMON", "too easy to guess"),
        ("qwertyuiopasdf", "PASSWORD_TOO_COMMON", "too easy to guess"),
        ("é" * 37, "PASSWORD_TOO_LONG", "too long"),
        ("Xy7#" * 19, "PASSWORD_TOO_LONG", "too long"),
    ],
)
async def test_register_rejects_weak_passwords_with_reasons(
    api: RunningApp, password: str, code: str, words: str
) -> None:
    response = await api.client.post(
        api.url("/auth/register"), json={"email": "weak@example.com", "password": password}
    )
    body = assert_error(response, 422, code)
    assert body["errors"][0]["field"] == "password"
    assert words in body["errors"][0]["message"]
    assert await User.filter(email="weak@example.com").count() == 0


async def test_register_password_containing_the_email_is_too_guessable(api: RunningApp) -> None:
    response = await api.client.post(
        api.url("/auth/register"),
        json={"email": "zanzibar.quokka@example.com", "password": "zanzibarquokka1"},
    )
    assert_error(response, 422, "PASSWORD_TOO_COMMON")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, {"email"}),
        ({"password": STRONG_PASSWORD}, {"email"}),
        ({"email": "a@example.com"}, {"password"}),
        ({"email": 5, "password": ["x"]}, {"email", "password"}),
        ({"email": "a@example.com", "password": STRONG_PASSWORD, "first_name": "x" * 101}, None),
        ({"email": ("x" * 300) + "@example.com", "password": STRONG_PASSWORD}, {"email"}),
        ({"email": "a@example.com", "password": "p" * 5000}, {"password"}),
    ],
)
async def test_register_invalid_fields_are_422_per_field(
    api: RunningApp, body: dict[str, Any], fields: set[str] | None
) -> None:
    response = await api.client.post(api.url("/auth/register"), json=body)
    result = assert_error(response, 422)
    got = {error["field"] for error in result["errors"]}
    assert got == (fields or {"first_name"})
    assert await User.all().count() == 0


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"", b"null", b"123"]
)
async def test_malformed_bodies_are_400(api: RunningApp, raw: bytes) -> None:
    response = await api.client.post(
        api.url("/auth/register"), content=raw, headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "BAD_REQUEST")


async def test_register_accepts_unicode_names(api: RunningApp) -> None:
    user = await api.register("zoe@example.com", first_name="Zoë 🌟", last_name="Ωmega")
    assert user["first_name"] == "Zoë 🌟"


async def test_register_disabled_is_403(make_app: Any) -> None:
    api = await make_app(registration_enabled=False)
    response = await api.client.post(
        api.url("/auth/register"), json={"email": "a@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(response, 403, "REGISTRATION_DISABLED")


async def test_concurrent_registrations_with_one_email_make_one_user(api: RunningApp) -> None:
    body = {"email": "race@example.com", "password": STRONG_PASSWORD}
    responses = await asyncio.gather(
        *(api.client.post(api.url("/auth/register"), json=body) for _ in range(8))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) == 1
    assert set(statuses) <= {201, 409}
    assert await User.filter(email="race@example.com").count() == 1


# --- login ------------------------------------------------------------------------------


async def test_login_returns_tokens_and_user(api: RunningApp) -> None:
    await api.register("carol@example.com")
    body = await api.login("CAROL@example.com")
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert body["user"]["email"] == "carol@example.com"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert set(claims) == {
        *("sub", "sid", "jti", "type", "iat", "exp", "iss", "aud"),
        *("auth_time", "amr"),
    }
    assert claims["type"] == "access" and claims["sub"] == body["user"]["id"]
    assert claims["iat"] - 1 <= claims["auth_time"] <= claims["iat"]
    assert claims["amr"] == ["pwd"]
    assert "auth_time" not in jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900
    refresh = jwt.decode(body["refresh_token"], options={"verify_signature": False})
    assert refresh["type"] == "refresh" and refresh["sid"] == claims["sid"]
    assert refresh["exp"] - refresh["iat"] == 7 * 24 * 3600
    session = await UserSession.get(id=claims["sid"])
    assert session.refresh_token_jti == refresh["jti"] and session.is_active


async def test_login_failures_share_one_answer(api: RunningApp) -> None:
    await api.register("dave@example.com")
    wrong = await api.client.post(
        api.url("/auth/login"), json={"email": "dave@example.com", "password": "wrong password!"}
    )
    unknown = await api.client.post(
        api.url("/auth/login"), json={"email": "nobody@example.com", "password": "whatever12345"}
    )
    assert_error(wrong, 401, "AUTH_INVALID_CREDENTIALS")
    assert_error(unknown, 401, "AUTH_INVALID_CREDENTIALS")
    assert wrong.json() == unknown.json()
    assert await UserSession.all().count() == 0


async def test_login_of_inactive_account_is_403(api: RunningApp) -> None:
    await api.register("erin@example.com")
    await User.filter(email="erin@example.com").update(is_active=False)
    response = await api.client.post(
        api.url("/auth/login"), json={"email": "erin@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(response, 403, "ACCOUNT_INACTIVE")


async def test_login_oauth_form(api: RunningApp) -> None:
    await api.register("frank@example.com")
    response = await api.client.post(
        api.url("/auth/login/oauth"),
        data={"username": "frank@example.com", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer"
    bad = await api.client.post(api.url("/auth/login/oauth"), data={"username": "frank"})
    assert_error(bad, 422)


async def test_login_records_the_device(api: RunningApp) -> None:
    await api.register("gina@example.com")
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
    )
    tokens = await api.login("gina@example.com", **{"User-Agent": iphone, "X-Device-Id": "dev-1"})
    sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
    session = await UserSession.get(id=sid)
    assert session.device_name == "Apple iPhone"
    assert session.device_id == "dev-1"
    assert session.ip_address == "127.0.0.1"
    assert session.user_agent == iphone


# --- refresh ----------------------------------------------------------------------------


async def test_refresh_rotates_and_old_token_is_reuse(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("hank@example.com")
    first = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert set(rotated) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert rotated["refresh_token"] != tokens["refresh_token"]
    me = await api.client.get(api.url("/users/me"), headers=bearer(rotated))
    assert me.status_code == 200

    reuse = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert_error(reuse, 401, "AUTH_TOKEN_REUSED")
    # The whole session is revoked: the newest tokens die too.
    again = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": rotated["refresh_token"]}
    )
    assert_error(again, 401)
    dead = await api.client.get(api.url("/users/me"), headers=bearer(rotated))
    assert_error(dead, 401, "AUTH_INVALID_TOKEN")


async def test_concurrent_refreshes_exactly_one_wins(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ivy@example.com")
    responses = await asyncio.gather(
        *(
            api.client.post(
                api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
            )
            for _ in range(20)
        )
    )
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == 19


async def test_access_token_is_not_a_refresh_token_and_vice_versa(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("jack@example.com")
    as_refresh = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["access_token"]}
    )
    assert_error(as_refresh, 401, "AUTH_INVALID_TOKEN")
    as_access = await api.client.get(
        api.url("/users/me"), headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
    )
    assert_error(as_access, 401, "AUTH_INVALID_TOKEN")
    # Neither mistake revoked the session.
    ok = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    assert ok.status_code == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "", "x" * 5000])
async def test_refresh_with_garbage_is_401_or_422(api: RunningApp, token: str) -> None:
    response = await api.client.post(api.url("/auth/refresh"), json={"refresh_token": token})
    assert response.status_code in (401, 422)
    assert response.json()["success"] is False


# --- logout -----------------------------------------------------------------------------


async def test_logout_ends_that_session_only(api: RunningApp) -> None:
    await api.register("kim@example.com")
    laptop = await api.login("kim@example.com")
    phone = await api.login("kim@example.com")
    response = await api.client.post(
        api.url("/auth/logout"),
        json={"refresh_token": phone["refresh_token"]},
        headers=bearer(laptop),
    )
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert (await api.client.get(api.url("/users/me"), headers=bearer(phone))).status_code == 401
    assert (await api.client.get(api.url("/users/me"), headers=bearer(laptop))).status_code == 200
    refresh = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": phone["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_logout_is_idempotent_and_ignores_other_users_tokens(api: RunningApp) -> None:
    mine = await api.user_with_tokens("lea@example.com")
    theirs = await api.user_with_tokens("max@example.com")
    for token in (theirs["refresh_token"], "garbage", mine["access_token"], "", "x" * 5000):
        response = await api.client.post(
            api.url("/auth/logout"), json={"refresh_token": token}, headers=bearer(mine)
        )
        assert response.status_code == 200
    assert (await api.client.get(api.url("/users/me"), headers=bearer(theirs))).status_code == 200
    assert (await api.client.get(api.url("/users/me"), headers=bearer(mine))).status_code == 200
    missing = await api.client.post(api.url("/auth/logout"), json={}, headers=bearer(mine))
    assert assert_error(missing, 422)["errors"][0]["field"] == "refresh_token"


async def test_logout_requires_auth(api: RunningApp) -> None:
    response = await api.client.post(api.url("/auth/logout"), json={"refresh_token": "x"})
    assert_error(response, 401, "AUTH_REQUIRED")


async def test_logout_all_revokes_every_session(api: RunningApp) -> None:
    await api.register("ned@example.com")
    sessions = [await api.login("ned@example.com") for _ in range(3)]
    response = await api.client.post(api.url("/auth/logout-all"), headers=bearer(sessions[0]))
    assert response.status_code == 200
    assert response.json()["sessions_revoked"] == 3
    for tokens in sessions:
        me = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
        assert me.status_code == 401


# --- password reset ---------------------------------------------------------------------


async def test_password_reset_flow(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("olga@example.com")
    response = await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "OLGA@example.com"}
    )
    assert response.status_code == 200
    await api.settled()
    token = api.mailer.last_token_for("olga@example.com")
    assert token
    stored = await PasswordResetToken.get(user__email="olga@example.com")
    assert stored.token_hash != token  # only a hash is stored

    confirm = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert confirm.status_code == 200, confirm.text
    # Every session is revoked; the new password works, the old one does not.
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code == 401
    await api.login("olga@example.com", OTHER_STRONG_PASSWORD)
    old = await api.client.post(
        api.url("/auth/login"), json={"email": "olga@example.com", "password": STRONG_PASSWORD}
    )
    assert old.status_code == 401
    # Single use.
    reuse = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": "another fine passphrase 42"},
    )
    assert_error(reuse, 400, "RESET_TOKEN_INVALID")


async def test_password_reset_request_does_not_enumerate(api: RunningApp) -> None:
    await api.register("pia@example.com")
    await api.register("quinn@example.com")
    await User.filter(email="quinn@example.com").update(is_active=False)
    answers = []
    for email in ("pia@example.com", "unknown@example.com", "quinn@example.com"):
        response = await api.client.post(
            api.url("/auth/password-reset/request"), json={"email": email}
        )
        assert response.status_code == 200
        answers.append(response.json())
    assert answers[0] == answers[1] == answers[2]
    await api.settled()
    assert [mail.email for mail in api.mailer.outbox] == ["pia@example.com"]
    bad = await api.client.post(api.url("/auth/password-reset/request"), json={"email": "nope"})
    assert_error(bad, 422)
    missing = await api.client.post(api.url("/auth/password-reset/request"), json={})
    assert_error(missing, 422)


async def test_password_reset_token_expires(api: RunningApp) -> None:
    await api.register("rae@example.com")
    await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "rae@example.com"}
    )
    await api.settled()
    token = api.mailer.last_token_for("rae@example.com")

    await PasswordResetToken.all().update(
        expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)
    )
    response = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert_error(response, 400, "RESET_TOKEN_INVALID")


async def test_password_reset_weak_password_keeps_the_token(api: RunningApp) -> None:
    await api.register("sam@example.com")
    await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "sam@example.com"}
    )
    await api.settled()
    token = api.mailer.last_token_for("sam@example.com")
    weak = await api.client.post(
        api.url("/auth/password-reset/confirm"), json={"token": token, "new_password": "short"}
    )
    body = assert_error(weak, 422, "PASSWORD_TOO_SHORT")
    assert body["errors"][0]["field"] == "new_password"
    ok = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert ok.status_code == 200


async def test_concurrent_reset_confirms_use_the_token_once(api: RunningApp) -> None:
    await api.register("tess@example.com")
    await api.client.post(
        api.url("/auth/password-reset/request"), json={"email": "tess@example.com"}
    )
    await api.settled()
    token = api.mailer.last_token_for("tess@example.com")
    responses = await asyncio.gather(
        *(
            api.client.post(
                api.url("/auth/password-reset/confirm"),
                json={"token": token, "new_password": f"{OTHER_STRONG_PASSWORD}-{i}"},
            )
            for i in range(5)
        )
    )
    assert [r.status_code for r in responses].count(200) == 1


async def test_header_bytes_that_are_not_utf8_are_stored_as_text(api: RunningApp) -> None:
    await api.register("bytes@example.com")
    response = await api.client.post(
        api.url("/auth/login"),
        json={"email": "bytes@example.com", "password": STRONG_PASSWORD},
        headers={"User-Agent": b"Agent/1.0 \xff\xfe", "X-Device-Id": b"dev-\xff"},
    )
    assert response.status_code == 200, response.text
    session = await UserSession.get(user__email="bytes@example.com")
    assert session.user_agent == "Agent/1.0 \ufffd\ufffd"
    assert session.device_id == "dev-\ufffd"


@pytest.mark.parametrize("field", ["first_name", "last_name"])
async def test_nul_in_stored_text_is_422(api: RunningApp, field: str) -> None:
    response = await api.client.post(
        api.url("/auth/register"),
        json={"email": "nul@example.com", "password": STRONG_PASSWORD, field: "a\u0000b"},
    )
    assert assert_error(response, 422)["errors"][0]["field"] == field
    assert not await User.filter(email="nul@example.com").exists()
