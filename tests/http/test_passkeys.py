"""Passkeys over HTTP, as a client sees it: a software authenticator (``soft_authenticator``)
answers the options our routes give, correctly or wrong on purpose. ``test_passkeys_browser``
does the same with Chromium's virtual authenticator."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import jwt
import pytest

from sanic_auth_sessions.core.models import (
    Passkey,
    SecurityEvent,
    User,
    UserSession,
    WebAuthnChallenge,
)

from ..conftest import (
    STRONG_PASSWORD,
    RunningApp,
    bearer,
    module_server,
)
from ..helpers import age_session, assert_error, session_id
from ..soft_authenticator import SoftAuthenticator, b64url, from_b64url

RP_ID = "app.example"
ORIGIN = "https://app.example"
PASSKEY_FIELDS = {
    "id",
    "name",
    "created_at",
    "last_used_at",
    "device_type",
    "backed_up",
    "transports",
    "flagged",
}


@pytest.fixture(scope="module")
async def default_server(module_database_url: str) -> AsyncIterator[RunningApp]:
    """The module's shared server, with passkeys configured."""
    async with module_server(
        module_database_url, webauthn_rp_id=RP_ID, webauthn_origins=ORIGIN
    ) as running:
        yield running


async def registration_options(
    api: RunningApp, tokens: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await api.client.post(
        api.url("/users/me/passkeys/register/options"), json=body, headers=bearer(tokens)
    )
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()
    return options


async def verify_registration(
    api: RunningApp,
    tokens: dict[str, Any],
    challenge_id: str,
    credential: dict[str, Any],
    **body: Any,
) -> Any:
    return await api.client.post(
        api.url("/users/me/passkeys/register/verify"),
        json={"challenge_id": challenge_id, "credential": credential, **body},
        headers=bearer(tokens),
    )


async def add_passkey(
    api: RunningApp, tokens: dict[str, Any], authenticator: SoftAuthenticator, **body: Any
) -> dict[str, Any]:
    options = await registration_options(api, tokens)
    credential = authenticator.create(options["public_key"])
    response = await verify_registration(api, tokens, options["challenge_id"], credential, **body)
    assert response.status_code == 201, response.text
    passkey: dict[str, Any] = response.json()
    return passkey


async def login_options(api: RunningApp, **headers: str) -> dict[str, Any]:
    response = await api.client.post(
        api.url("/auth/passkeys/authenticate/options"), json={}, headers=headers
    )
    assert response.status_code == 200, response.text
    options: dict[str, Any] = response.json()
    return options


async def verify_login(api: RunningApp, challenge_id: str, credential: dict[str, Any]) -> Any:
    return await api.client.post(
        api.url("/auth/passkeys/authenticate/verify"),
        json={"challenge_id": challenge_id, "credential": credential},
    )


async def passkey_login(api: RunningApp, authenticator: SoftAuthenticator, **get: Any) -> Any:
    options = await login_options(api)
    credential = authenticator.get(options["public_key"], **get)
    return await verify_login(api, options["challenge_id"], credential)


async def user_with_passkey(
    api: RunningApp, email: str, **authenticator: Any
) -> tuple[dict[str, Any], SoftAuthenticator, dict[str, Any]]:
    tokens = await api.user_with_tokens(email)
    device = SoftAuthenticator(**authenticator)
    passkey = await add_passkey(api, tokens, device)
    return tokens, device, passkey


def claims(access_token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return decoded


async def test_register_then_log_in_usernameless(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ann@example.com")
    user_id = tokens["user"]["id"]
    options = await registration_options(api, tokens, name="Laptop")
    assert set(options) == {"challenge_id", "public_key"}
    public_key = options["public_key"]
    assert public_key["rp"] == {"id": RP_ID, "name": "sanic-auth-sessions"}
    handle = from_b64url(public_key["user"]["id"])
    assert len(handle) == 32 and handle.hex() != user_id.replace("-", "")
    assert public_key["user"]["name"] == "ann@example.com"
    assert public_key["user"]["displayName"] == "ann@example.com"
    assert len(from_b64url(public_key["challenge"])) == 32
    assert [p["alg"] for p in public_key["pubKeyCredParams"]] == [-7, -8, -257]
    assert public_key["timeout"] == 300_000
    assert public_key["excludeCredentials"] == []
    assert public_key["authenticatorSelection"]["residentKey"] == "required"
    assert public_key["authenticatorSelection"]["userVerification"] == "required"
    assert public_key["attestation"] == "none"

    device = SoftAuthenticator()
    created = await verify_registration(
        api, tokens, options["challenge_id"], device.create(public_key)
    )
    assert created.status_code == 201, created.text
    passkey = created.json()
    assert set(passkey) == PASSKEY_FIELDS
    assert passkey["name"] == "Laptop"
    assert passkey["device_type"] == "single_device" and passkey["backed_up"] is False
    assert passkey["transports"] == ["internal"] and passkey["flagged"] is False
    assert passkey["last_used_at"] is None

    listed = await api.client.get(api.url("/users/me/passkeys"), headers=bearer(tokens))
    assert listed.status_code == 200
    assert listed.json() == {"passkeys": [passkey], "total": 1}

    # The next options exclude it.
    again = await registration_options(api, tokens)
    assert again["public_key"]["excludeCredentials"] == [
        {"id": b64url(device.credential_id), "type": "public-key", "transports": ["internal"]}
    ]

    options = await login_options(api, Authorization="Bearer ignored")
    assert options["public_key"]["allowCredentials"] == []
    assert options["public_key"]["rpId"] == RP_ID
    assert options["public_key"]["userVerification"] == "required"
    response = await verify_login(api, options["challenge_id"], device.get(options["public_key"]))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["user"]["id"] == user_id and body["token_type"] == "bearer"
    assert claims(body["access_token"])["amr"] == ["pop", "mfa"]
    session = await UserSession.get(id=session_id(body))
    assert session.amr == "pop mfa" and session.is_active
    me = await api.client.get(api.url("/users/me"), headers=bearer(body))
    assert me.status_code == 200 and me.json()["email"] == "ann@example.com"

    stored = await Passkey.get(id=passkey["id"])
    assert stored.sign_count == 1 and stored.last_used_at is not None
    types = await SecurityEvent.filter(user_id=user_id).values_list("type", flat=True)
    assert "passkey.added" in types and "login.succeeded" in types


async def test_a_synced_passkey_is_multi_device(api: RunningApp) -> None:
    _, _, passkey = await user_with_passkey(api, "sync@example.com", backup_eligible=True)
    assert passkey["device_type"] == "multi_device" and passkey["backed_up"] is True


async def test_a_replayed_challenge_is_refused(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("replay@example.com")
    device = SoftAuthenticator()
    options = await registration_options(api, tokens)
    credential = device.create(options["public_key"])
    first = await verify_registration(api, tokens, options["challenge_id"], credential)
    assert first.status_code == 201
    replayed = await verify_registration(api, tokens, options["challenge_id"], credential)
    body = assert_error(replayed, 400, "WEBAUTHN_CHALLENGE_INVALID")
    assert body["errors"][0]["field"] == "challenge_id"

    options = await login_options(api)
    assertion = device.get(options["public_key"])
    assert (await verify_login(api, options["challenge_id"], assertion)).status_code == 200
    again = await verify_login(api, options["challenge_id"], assertion)
    assert_error(again, 400, "WEBAUTHN_CHALLENGE_INVALID")


async def test_a_failed_verification_spends_the_challenge(api: RunningApp) -> None:
    _, device, _ = await user_with_passkey(api, "spent@example.com")
    options = await login_options(api)
    wrong = device.get(options["public_key"], origin="https://evil.example")
    assert_error(await verify_login(api, options["challenge_id"], wrong), 401)
    right = device.get(options["public_key"])
    retried = await verify_login(api, options["challenge_id"], right)
    assert_error(retried, 400, "WEBAUTHN_CHALLENGE_INVALID")


async def test_an_expired_challenge_is_refused(api: RunningApp) -> None:
    tokens, device, _ = await user_with_passkey(api, "late@example.com")
    options = await login_options(api)
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    await WebAuthnChallenge.filter(id=options["challenge_id"]).update(expires_at=past)
    response = await verify_login(api, options["challenge_id"], device.get(options["public_key"]))
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")

    options = await registration_options(api, tokens)
    await WebAuthnChallenge.filter(id=options["challenge_id"]).update(expires_at=past)
    credential = SoftAuthenticator().create(options["public_key"])
    expired = await verify_registration(api, tokens, options["challenge_id"], credential)
    assert_error(expired, 400, "WEBAUTHN_CHALLENGE_INVALID")


async def test_unknown_and_malformed_challenge_ids(api: RunningApp) -> None:
    _, device, _ = await user_with_passkey(api, "unknown@example.com")
    options = await login_options(api)
    assertion = device.get(options["public_key"])
    for challenge_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = await verify_login(api, challenge_id, assertion)
        assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")
    missing = await api.client.post(
        api.url("/auth/passkeys/authenticate/verify"), json={"credential": assertion}
    )
    assert_error(missing, 422, "VALIDATION_ERROR")
    not_object = await verify_login(api, options["challenge_id"], [])  # type: ignore[arg-type]
    assert_error(not_object, 422, "VALIDATION_ERROR")
    garbage = await verify_login(api, options["challenge_id"], {"id": "x"})
    assert_error(garbage, 401, "AUTH_INVALID_CREDENTIALS")


async def test_a_challenge_works_only_for_its_purpose(api: RunningApp) -> None:
    tokens, device, _ = await user_with_passkey(api, "purpose@example.com")
    # A login challenge does not register.
    login = await login_options(api)
    credential = SoftAuthenticator().create(
        {**login["public_key"], "user": {"id": b64url(b"x" * 32)}}
    )
    response = await verify_registration(api, tokens, login["challenge_id"], credential)
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")
    # A reauthenticate challenge does not log in.
    reauth = await api.client.post(
        api.url("/auth/passkeys/authenticate/options"),
        json={"purpose": "reauthenticate"},
        headers=bearer(tokens),
    )
    assert reauth.status_code == 200, reauth.text
    body = reauth.json()
    assertion = device.get(body["public_key"])
    response = await verify_login(api, body["challenge_id"], assertion)
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")
    # A registration challenge does not log in either.
    registration = await registration_options(api, tokens)
    assertion = device.get(registration["public_key"])
    response = await verify_login(api, registration["challenge_id"], assertion)
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")


async def test_a_registration_challenge_belongs_to_its_session(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("two@example.com")
    other_session = await api.login("two@example.com")
    options = await registration_options(api, tokens)
    credential = SoftAuthenticator().create(options["public_key"])
    response = await verify_registration(api, other_session, options["challenge_id"], credential)
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")
    someone_else = await api.user_with_tokens("three@example.com")
    response = await verify_registration(api, someone_else, options["challenge_id"], credential)
    assert_error(response, 400, "WEBAUTHN_CHALLENGE_INVALID")


@pytest.mark.parametrize(
    "wrong",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}, {"kind": "webauthn.get"}],
)
async def test_registration_checks_origin_rp_id_and_type(
    api: RunningApp, wrong: dict[str, str]
) -> None:
    tokens = await api.user_with_tokens("checks@example.com")
    options = await registration_options(api, tokens)
    credential = SoftAuthenticator().create(options["public_key"], **wrong)
    response = await verify_registration(api, tokens, options["challenge_id"], credential)
    body = assert_error(response, 400, "WEBAUTHN_VERIFICATION_FAILED")
    assert body["errors"][0]["field"] == "credential"
    # the answer does not name the origins the server accepts
    assert ORIGIN not in response.text
    assert await Passkey.all().count() == 0


async def test_a_credential_id_longer_than_webauthn_allows_is_refused(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("long-id@example.com")
    device = SoftAuthenticator()
    device.credential_id = secrets.token_bytes(1100)  # WebAuthn caps it at 1023 bytes
    options = await registration_options(api, tokens)
    response = await verify_registration(
        api, tokens, options["challenge_id"], device.create(options["public_key"])
    )
    assert_error(response, 400, "WEBAUTHN_VERIFICATION_FAILED")
    assert await Passkey.all().count() == 0


async def test_registration_needs_user_verification(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("nouv@example.com")
    options = await registration_options(api, tokens)
    credential = SoftAuthenticator(user_verified=False).create(options["public_key"])
    response = await verify_registration(api, tokens, options["challenge_id"], credential)
    assert_error(response, 400, "WEBAUTHN_VERIFICATION_FAILED")


@pytest.mark.parametrize(
    "wrong",
    [
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
        {"kind": "webauthn.create"},
        {"user_handle": b"\x00" * 32},
    ],
)
async def test_login_checks_origin_rp_id_type_and_user_handle(
    api: RunningApp, wrong: dict[str, Any]
) -> None:
    _, device, _ = await user_with_passkey(api, "login-checks@example.com")
    response = await passkey_login(api, device, **wrong)
    assert_error(response, 401, "AUTH_INVALID_CREDENTIALS")
    assert await UserSession.all().count() == 1  # the password login's only


async def test_another_signature_is_refused(api: RunningApp) -> None:
    _, device, _ = await user_with_passkey(api, "forged@example.com")
    impostor = SoftAuthenticator()
    impostor.credential_id = device.credential_id
    impostor.user_handle = device.user_handle
    assert_error(await passkey_login(api, impostor), 401, "AUTH_INVALID_CREDENTIALS")
    assert (await passkey_login(api, device)).status_code == 200


async def test_a_counter_regression_flags_the_passkey(api: RunningApp) -> None:
    tokens, device, passkey = await user_with_passkey(api, "clone@example.com")
    assert (await passkey_login(api, device)).status_code == 200  # counter 1
    assert (await passkey_login(api, device)).status_code == 200  # counter 2
    cloned = await passkey_login(api, device, counter=2)
    assert_error(cloned, 401, "AUTH_INVALID_CREDENTIALS")
    listed = await api.client.get(api.url("/users/me/passkeys"), headers=bearer(tokens))
    assert listed.json()["passkeys"][0]["flagged"] is True
    events = await SecurityEvent.filter(type="passkey.counter_regression").values("user_id", "data")
    assert len(events) == 1 and str(events[0]["user_id"]) == tokens["user"]["id"]
    assert events[0]["data"]["passkey_id"] == passkey["id"]
    # Flagged: refused from now on, even with a counter that moves on.
    assert_error(await passkey_login(api, device), 401, "AUTH_INVALID_CREDENTIALS")
    mine = await api.client.get(api.url("/users/me/security-events"), headers=bearer(tokens))
    assert "passkey.counter_regression" in [event["type"] for event in mine.json()["data"]]


async def test_a_zero_counter_authenticator_keeps_working(api: RunningApp) -> None:
    _, device, _ = await user_with_passkey(api, "zero@example.com")
    for _ in range(2):
        assert (await passkey_login(api, device, counter=0)).status_code == 200


async def test_the_limit_of_20_passkeys(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("many@example.com")
    user_id = tokens["user"]["id"]
    await Passkey.bulk_create(
        [
            Passkey(user_id=user_id, credential_id=f"cred-{i}", public_key="x", name=f"Key {i}")
            for i in range(19)
        ]
    )
    options = await registration_options(api, tokens)  # the 20th
    response = await verify_registration(
        api, tokens, options["challenge_id"], SoftAuthenticator().create(options["public_key"])
    )
    assert response.status_code == 201, response.text
    full = await api.client.post(
        api.url("/users/me/passkeys/register/options"), headers=bearer(tokens)
    )
    assert_error(full, 409, "PASSKEY_LIMIT_REACHED")


async def test_a_credential_registers_once(api: RunningApp) -> None:
    tokens, device, _ = await user_with_passkey(api, "once@example.com")
    options = await registration_options(api, tokens)
    response = await verify_registration(
        api, tokens, options["challenge_id"], device.create(options["public_key"])
    )
    assert_error(response, 409, "PASSKEY_ALREADY_REGISTERED")
    other = await api.user_with_tokens("other@example.com")
    options = await registration_options(api, other)
    response = await verify_registration(
        api, other, options["challenge_id"], device.create(options["public_key"])
    )
    assert_error(response, 409, "PASSKEY_ALREADY_REGISTERED")


async def test_registration_options_need_step_up(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("stale@example.com")
    await age_session(tokens)
    url = api.url("/users/me/passkeys/register/options")
    stale = await api.client.post(url, headers=bearer(tokens))
    assert_error(stale, 403, "REAUTHENTICATION_REQUIRED")
    wrong = await api.client.post(
        url, json={"current_password": "not the password"}, headers=bearer(tokens)
    )
    assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    proven = await api.client.post(
        url, json={"current_password": STRONG_PASSWORD, "name": "Phone"}, headers=bearer(tokens)
    )
    assert proven.status_code == 200, proven.text
    bad_name = await api.client.post(url, json={"name": " "}, headers=bearer(tokens))
    assert_error(bad_name, 422, "VALIDATION_ERROR")
    unauthenticated = await api.client.post(url)
    assert_error(unauthenticated, 401)


async def test_delete_rules(api: RunningApp) -> None:
    tokens, device, passkey = await user_with_passkey(api, "del@example.com")
    other, _, others_passkey = await user_with_passkey(api, "del2@example.com")
    url = api.url(f"/users/me/passkeys/{passkey['id']}")
    # Another user's passkey is unknown.
    foreign = await api.client.delete(
        api.url(f"/users/me/passkeys/{others_passkey['id']}"), headers=bearer(tokens)
    )
    assert_error(foreign, 404, "NOT_FOUND")
    # Step-up.
    await age_session(tokens)
    assert_error(
        await api.client.delete(url, headers=bearer(tokens)), 403, "REAUTHENTICATION_REQUIRED"
    )
    # Without a password and any other passkey, it is the last login method.
    await User.filter(id=tokens["user"]["id"]).update(hashed_password="")
    last = await api.client.request(
        "DELETE", url, headers=bearer(tokens), json={"current_password": "x"}
    )
    assert_error(last, 403, "AUTH_WRONG_PASSWORD")
    await age_session(tokens, 0)
    assert_error(await api.client.delete(url, headers=bearer(tokens)), 409, "LAST_LOGIN_METHOD")
    # A second passkey makes the first deletable.
    second = await add_passkey(api, tokens, SoftAuthenticator())
    deleted = await api.client.delete(url, headers=bearer(tokens))
    assert deleted.status_code == 200, deleted.text
    assert_error(await api.client.delete(url, headers=bearer(tokens)), 404, "NOT_FOUND")
    assert_error(await passkey_login(api, device), 401, "AUTH_INVALID_CREDENTIALS")
    assert_error(
        await api.client.delete(
            api.url(f"/users/me/passkeys/{second['id']}"), headers=bearer(tokens)
        ),
        409,
        "LAST_LOGIN_METHOD",
    )
    # An account with a password can delete its only passkey.
    only = await api.client.delete(
        api.url(f"/users/me/passkeys/{others_passkey['id']}"), headers=bearer(other)
    )
    assert only.status_code == 200, only.text
    events = await SecurityEvent.filter(type="passkey.removed").count()
    assert events == 2


async def test_a_flagged_passkey_can_always_be_deleted(api: RunningApp) -> None:
    """A flagged passkey no longer signs in: deleting it is not removing a way in, even for
    an account with nothing else (it then signs in again through a password reset)."""
    tokens, _, passkey = await user_with_passkey(api, "flagged@example.com")
    await User.filter(id=tokens["user"]["id"]).update(hashed_password="")
    await Passkey.filter(id=passkey["id"]).update(flagged=True)
    deleted = await api.client.delete(
        api.url(f"/users/me/passkeys/{passkey['id']}"), headers=bearer(tokens)
    )
    assert deleted.status_code == 200, deleted.text
    assert await Passkey.filter(id=passkey["id"]).count() == 0


async def test_a_worker_with_passkeys_loads_their_rules_when_it_starts(make_app: Any) -> None:
    api = await make_app(webauthn_rp_id=RP_ID, webauthn_origins=ORIGIN)
    assert "passkeys" in api.app.ctx.auth_manager.__dict__  # before any request


async def test_inactive_and_unverified_accounts(make_app: Any) -> None:
    api = await make_app(webauthn_rp_id=RP_ID, webauthn_origins=ORIGIN, require_verified_email=True)
    tokens = await api.register("unverified@example.com")
    user = await User.get(id=tokens["id"])
    user.is_verified = True
    await user.save()
    logged_in = await api.login("unverified@example.com")
    device = SoftAuthenticator()
    await add_passkey(api, logged_in, device)
    await User.filter(id=tokens["id"]).update(is_verified=False)
    assert_error(await passkey_login(api, device), 403, "EMAIL_NOT_VERIFIED")
    await User.filter(id=tokens["id"]).update(is_verified=True, is_active=False)
    assert_error(await passkey_login(api, device), 403, "ACCOUNT_INACTIVE")


async def test_preferred_verification_and_mfa_accounts(make_app: Any) -> None:
    api = await make_app(
        webauthn_rp_id=RP_ID, webauthn_origins=ORIGIN, webauthn_user_verification="preferred"
    )
    tokens, device, _ = await user_with_passkey(api, "pref@example.com", user_verified=False)
    response = await passkey_login(api, device)
    assert response.status_code == 200, response.text
    assert claims(response.json()["access_token"])["amr"] == ["pop"]
    # With two-factor authentication on, a passkey without user verification is refused.
    await User.filter(id=tokens["user"]["id"]).update(mfa_enabled=True)
    assert_error(await passkey_login(api, device), 401, "AUTH_INVALID_CREDENTIALS")
    device.user_verified = True
    verified = await passkey_login(api, device)
    assert verified.status_code == 200, verified.text
    assert "mfa_required" not in verified.json()


async def test_a_passkey_login_does_not_touch_the_lockout(make_app: Any) -> None:
    api = await make_app(
        webauthn_rp_id=RP_ID, webauthn_origins=ORIGIN, lockout_enabled=True, lockout_max_failures=2
    )
    _, device, _ = await user_with_passkey(api, "locked@example.com")
    for _ in range(3):
        await api.client.post(
            api.url("/auth/login"), json={"email": "locked@example.com", "password": "wrong-1"}
        )
    locked = await api.client.post(
        api.url("/auth/login"), json={"email": "locked@example.com", "password": STRONG_PASSWORD}
    )
    assert_error(locked, 429, "ACCOUNT_LOCKED")
    assert (await passkey_login(api, device)).status_code == 200


async def test_reauthenticate_with_a_passkey(api: RunningApp) -> None:
    tokens, device, _ = await user_with_passkey(api, "reauth@example.com")
    url = api.url("/auth/passkeys/authenticate/options")
    anonymous = await api.client.post(url, json={"purpose": "reauthenticate"})
    assert_error(anonymous, 401)
    bad_purpose = await api.client.post(url, json={"purpose": "register"})
    assert_error(bad_purpose, 422, "VALIDATION_ERROR")
    await age_session(tokens)
    options = await api.client.post(url, json={"purpose": "reauthenticate"}, headers=bearer(tokens))
    assert options.status_code == 200, options.text
    body = options.json()
    assert [c["id"] for c in body["public_key"]["allowCredentials"]] == [
        b64url(device.credential_id)
    ]
    reauth_url = api.url("/auth/reauthenticate")
    proof = {"challenge_id": body["challenge_id"], "credential": device.get(body["public_key"])}
    answer = await api.client.post(reauth_url, json={"passkey": proof}, headers=bearer(tokens))
    assert answer.status_code == 200, answer.text
    assert claims(answer.json()["access_token"])["amr"] == ["pop", "mfa"]
    session = await UserSession.get(id=session_id(tokens))
    assert session.amr == "pop mfa"
    assert datetime.now(timezone.utc) - session.authenticated_at < timedelta(seconds=30)
    # The proof is single use, and a proof with a wrong origin is refused without a 401.
    replayed = await api.client.post(reauth_url, json={"passkey": proof}, headers=bearer(tokens))
    assert_error(replayed, 400, "WEBAUTHN_CHALLENGE_INVALID")
    options = await api.client.post(url, json={"purpose": "reauthenticate"}, headers=bearer(tokens))
    body = options.json()
    wrong = {
        "challenge_id": body["challenge_id"],
        "credential": device.get(body["public_key"], origin="https://evil.example"),
    }
    refused = await api.client.post(reauth_url, json={"passkey": wrong}, headers=bearer(tokens))
    assert_error(refused, 400, "WEBAUTHN_VERIFICATION_FAILED")
    # A login challenge is not a re-authentication challenge; a password and a passkey at once
    # are one proof too many.
    login = await login_options(api)
    not_this = {
        "challenge_id": login["challenge_id"],
        "credential": device.get(login["public_key"]),
    }
    refused = await api.client.post(reauth_url, json={"passkey": not_this}, headers=bearer(tokens))
    assert_error(refused, 400, "WEBAUTHN_CHALLENGE_INVALID")
    both = await api.client.post(
        reauth_url, json={"passkey": proof, "password": STRONG_PASSWORD}, headers=bearer(tokens)
    )
    assert_error(both, 422, "VALIDATION_ERROR")


async def test_another_accounts_passkey_does_not_reauthenticate(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("me@example.com")
    _, device, _ = await user_with_passkey(api, "them@example.com")
    options = await api.client.post(
        api.url("/auth/passkeys/authenticate/options"),
        json={"purpose": "reauthenticate"},
        headers=bearer(tokens),
    )
    body = options.json()
    assert body["public_key"]["allowCredentials"] == []
    proof = {"challenge_id": body["challenge_id"], "credential": device.get(body["public_key"])}
    refused = await api.client.post(
        api.url("/auth/reauthenticate"), json={"passkey": proof}, headers=bearer(tokens)
    )
    assert_error(refused, 400, "WEBAUTHN_VERIFICATION_FAILED")


async def test_routes_are_404_while_passkeys_are_not_configured(make_app: Any) -> None:
    api = await make_app()
    tokens = await api.user_with_tokens("off@example.com")
    calls = [
        ("post", "/users/me/passkeys/register/options", {}),
        ("post", "/users/me/passkeys/register/verify", {"challenge_id": "x", "credential": {}}),
        ("get", "/users/me/passkeys", None),
        ("delete", "/users/me/passkeys/00000000-0000-0000-0000-000000000000", None),
        ("post", "/auth/passkeys/authenticate/options", {}),
        ("post", "/auth/passkeys/authenticate/verify", {"challenge_id": "x", "credential": {}}),
    ]
    for method, path, body in calls:
        kwargs: dict[str, Any] = {"headers": bearer(tokens)}
        if body is not None:
            kwargs["json"] = body
        response = await api.client.request(method.upper(), api.url(path), **kwargs)
        assert_error(response, 404, "NOT_FOUND")
        anonymous = await api.client.request(method.upper(), api.url(path))
        assert_error(anonymous, 404, "NOT_FOUND")
    proof = {"challenge_id": "x", "credential": {}}
    reauth = await api.client.post(
        api.url("/auth/reauthenticate"), json={"passkey": proof}, headers=bearer(tokens)
    )
    body = assert_error(reauth, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["field"] == "passkey"


async def test_passkey_routes_are_rate_limited_per_ip(make_app: Any) -> None:
    api = await make_app(
        webauthn_rp_id=RP_ID,
        webauthn_origins=ORIGIN,
        rate_limit_enabled=True,
        rate_limit_passkey="2/minute",
    )
    url = api.url("/auth/passkeys/authenticate/options")
    for _ in range(2):
        assert (await api.client.post(url)).status_code == 200
    limited = await api.client.post(url)
    assert_error(limited, 429, "RATE_LIMITED")
    assert "retry-after" in limited.headers


async def test_the_cleanup_deletes_used_and_expired_challenges(api: RunningApp) -> None:
    from sanic_auth_sessions.core.models import WebAuthnPurpose
    from sanic_auth_sessions.db.cleanup import delete_stale_rows

    now = datetime.now(timezone.utc)
    hour = timedelta(hours=1)
    for name, fields in [
        ("live", {}),
        ("used", {"used_at": now}),
        ("expired", {"expires_at": now - hour}),
    ]:
        await WebAuthnChallenge.create(
            challenge=name, purpose=WebAuthnPurpose.LOGIN, **{"expires_at": now + hour, **fields}
        )
    await delete_stale_rows(30 * 24 * 3600)
    assert await WebAuthnChallenge.all().values_list("challenge", flat=True) == ["live"]


def test_the_origins_are_required_with_the_rp_id() -> None:
    from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError

    with pytest.raises(ConfigurationError, match="AUTH_WEBAUTHN_ORIGINS is required"):
        AuthSettings.from_defaults(environment="test", webauthn_rp_id="app.example")
    settings = AuthSettings.from_defaults(
        environment="test",
        webauthn_rp_id=" App.Example ",
        webauthn_origins="https://app.example, https://www.app.example",
        webauthn_user_verification="Preferred",
    )
    assert settings.passkeys_enabled and settings.webauthn_rp_id == "app.example"
    assert settings.webauthn_origins == ("https://app.example", "https://www.app.example")
    assert settings.webauthn_rp_label == "sanic-auth-sessions"
    assert settings.webauthn_user_verification == "preferred"
    assert not AuthSettings.from_defaults(environment="test").passkeys_enabled
    with pytest.raises(ConfigurationError, match="AUTH_WEBAUTHN_USER_VERIFICATION"):
        AuthSettings.from_defaults(environment="test", webauthn_user_verification="discouraged")


async def test_concurrent_uses_of_one_challenge_let_one_through(api: RunningApp) -> None:
    import asyncio

    tokens, device, _ = await user_with_passkey(api, "race@example.com")
    options = await login_options(api)
    assertion = device.get(options["public_key"])
    answers = await asyncio.gather(
        *(verify_login(api, options["challenge_id"], assertion) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]

    options = await registration_options(api, tokens)
    credential = SoftAuthenticator().create(options["public_key"])
    answers = await asyncio.gather(
        *(verify_registration(api, tokens, options["challenge_id"], credential) for _ in range(3))
    )
    assert sorted(a.status_code for a in answers) == [201, 400, 400]
    assert await Passkey.filter(user_id=tokens["user"]["id"]).count() == 2


async def test_a_passkey_login_by_cookie(make_app: Any) -> None:
    """With a cookie transport the passkey login answers like a cookie login: the tokens in
    HttpOnly cookies, none in the body, and only from an allowed origin."""
    api = await make_app(
        webauthn_rp_id=RP_ID,
        webauthn_origins=ORIGIN,
        transport="both",
        csrf_trusted_origins=ORIGIN,
    )
    _, device, _ = await user_with_passkey(api, "cookie@example.com")
    cookie_request = {"X-Auth-Transport": "cookie", "Origin": ORIGIN}
    options = await login_options(api)
    response = await api.client.post(
        api.url("/auth/passkeys/authenticate/verify"),
        json={
            "challenge_id": options["challenge_id"],
            "credential": device.get(options["public_key"]),
        },
        headers=cookie_request,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "cookie" and "access_token" not in body
    assert body["user"]["email"] == "cookie@example.com"
    assert {"access_token", "refresh_token", "csrf_token"} <= set(response.cookies)
    elsewhere = await api.client.post(
        api.url("/auth/passkeys/authenticate/verify"),
        json={"challenge_id": options["challenge_id"], "credential": {}},
        headers={**cookie_request, "Origin": "https://evil.example"},
    )
    assert_error(elsewhere, 403, "CSRF_FAILED")
