"""Social login over HTTP against a real OpenID Connect provider (``oidc-provider`` on Node,
on loopback): the authorization URL, the provider's own login page, the code, our callback.

Each test signs in at the provider as one of its accounts (``tests/oidc_provider.py``):
``alice`` (verified email, given and family names), ``bob`` (unverified email), ``carol``
(verified, mixed-case email, a full ``name``), ``dave`` (no email), ``erin`` and ``frank``
(verified). The provider keeps the email claims out of the ID token (its default), so every
login also reads its UserInfo endpoint.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator, Iterator
from ssl import create_default_context
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from sanic_auth_sessions.core.models import OAuthAccount, OAuthState, User, UserSession
from sanic_auth_sessions.services.social import hash_state

from ..conftest import (
    STRONG_PASSWORD,
    RunningApp,
    bearer,
    module_server,
    reclaim_tortoise,
)
from ..helpers import USER_FIELDS, age_session, assert_error
from ..oidc_provider import (
    ACCOUNTS,
    REDIRECT_URI,
    OidcProvider,
    sign_in_at_provider,
    start_provider,
    stop_provider,
)
from ..serving import free_port, loopback_client

CALLBACK_URI = REDIRECT_URI.format(provider="test")
STATE_INVALID = "OAUTH_STATE_INVALID"


def social_settings(provider: OidcProvider, **extra: Any) -> dict[str, Any]:
    return {
        "oidc_providers": json.dumps(
            [
                {
                    "name": "test",
                    "display_name": "Test IdP",
                    "issuer": provider.issuer,
                    "client_id": provider.client_id,
                    "client_secret": provider.client_secret,
                    "icon": "key",
                },
                {
                    # Nothing listens there: the provider is unreachable.
                    "name": "down",
                    "display_name": "Down",
                    "issuer": f"http://127.0.0.1:{free_port()}",
                    "client_id": "x",
                    "client_secret": "y",
                },
            ]
        ),
        "oauth_redirect_uris": REDIRECT_URI,
        "oauth_http_timeout_s": 5,
        **extra,
    }


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[OidcProvider]:
    """The OpenID Connect provider of this module's tests, on a free loopback port."""
    provider = start_provider(
        client_id="sanic-auth-tests",
        client_secret="a-client-secret-for-the-tests-only",
        redirect_uris=[CALLBACK_URI],
        accounts=ACCOUNTS,
    )
    try:
        yield provider
    finally:
        stop_provider(provider)


@pytest.fixture(scope="module")
async def social_server(
    module_database_url: str, oidc_provider: OidcProvider
) -> AsyncIterator[RunningApp]:
    async with module_server(module_database_url, **social_settings(oidc_provider)) as running:
        yield running


@pytest.fixture
async def api(social_server: RunningApp, database_url: str) -> AsyncIterator[RunningApp]:
    """The module's server with the social settings, as ``conftest.api`` is for the default
    one: its database emptied, Tortoise set up for it again after another server's stop."""
    await reclaim_tortoise(social_server, database_url)
    social_server.mailer.outbox.clear()
    yield social_server
    await social_server.settled()


async def authorize(api: RunningApp, provider: str = "test", **headers: str) -> dict[str, Any]:
    response = await api.client.get(
        api.url(f"/oauth/authorize/{provider}"),
        params={"redirect_uri": REDIRECT_URI.format(provider=provider)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def callback(
    api: RunningApp,
    code: str,
    state: str,
    *,
    provider: str = "test",
    redirect_uri: str = CALLBACK_URI,
    **headers: str,
) -> Any:
    return await api.client.post(
        api.url(f"/oauth/callback/{provider}"),
        params={"redirect_uri": redirect_uri},
        json={"code": code, "state": state},
        headers=headers,
    )


async def provider_redirect(api: RunningApp, login: str) -> dict[str, str]:
    """Start a login, sign in at the provider as ``login``: what the callback page gets."""
    started = await authorize(api)
    returned = await sign_in_at_provider(started["authorization_url"], login)
    assert returned["state"] == started["state"]
    return returned


async def social_login(api: RunningApp, login: str, **headers: str) -> Any:
    returned = await provider_redirect(api, login)
    return await callback(api, returned["code"], returned["state"], **headers)


async def social_tokens(api: RunningApp, login: str) -> dict[str, Any]:
    response = await social_login(api, login)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- providers and the authorization URL ---------------------------------------------------


async def test_the_provider_list_shows_the_configured_providers(api: RunningApp) -> None:
    response = await api.client.get(api.url("/oauth/providers"))
    assert response.status_code == 200
    assert response.json() == {
        "enabled": True,
        "providers": [
            {"provider": "test", "name": "Test IdP", "icon": "key"},
            {"provider": "down", "name": "Down", "icon": None},
        ],
    }


async def test_a_worker_with_providers_loads_their_client_when_it_starts(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    api = await make_app(**social_settings(oidc_provider))
    assert "tls" in api.app.ctx.auth_manager.social.__dict__  # before any request


async def test_without_providers_the_list_is_empty_and_the_routes_are_404(make_app: Any) -> None:
    api = await make_app()
    manager = api.app.ctx.auth_manager
    # Nothing of social login or passkeys is loaded for an app that has neither.
    assert "tls" not in manager.social.__dict__ and "passkeys" not in manager.__dict__
    response = await api.client.get(api.url("/oauth/providers"))
    assert response.json() == {"enabled": False, "providers": []}
    response = await api.client.get(
        api.url("/oauth/authorize/google"), params={"redirect_uri": "http://app.example/"}
    )
    assert_error(response, 404, "NOT_FOUND")
    tokens = await api.user_with_tokens("ann@example.com")
    response = await api.client.get(api.url("/oauth/accounts"), headers=bearer(tokens))
    assert response.status_code == 200 and response.json() == {"accounts": []}


async def test_the_authorization_url_carries_pkce_nonce_and_its_state(
    api: RunningApp, oidc_provider: OidcProvider
) -> None:
    # An Authorization header is ignored: authorize is always a login.
    started = await authorize(api, Authorization="Bearer not-a-token")
    url = urlsplit(started["authorization_url"])
    assert f"{url.scheme}://{url.netloc}".startswith(oidc_provider.issuer)
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == oidc_provider.client_id
    assert params["redirect_uri"] == CALLBACK_URI
    assert params["scope"] == "openid email profile"
    assert params["state"] == started["state"]
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert len(params["nonce"]) >= 32
    # Stored hashed, in login mode, unspent.
    record = await OAuthState.get(state_hash=hash_state(started["state"]))
    assert record.mode == "login" and record.user_id is None and record.used_at is None
    assert not await OAuthState.filter(state_hash=started["state"]).exists()


async def test_authorize_refuses_unknown_providers_and_other_redirect_uris(
    api: RunningApp,
) -> None:
    response = await api.client.get(
        api.url("/oauth/authorize/nope"), params={"redirect_uri": CALLBACK_URI}
    )
    assert_error(response, 404, "NOT_FOUND")
    # An unknown provider is 404 before its input is looked at.
    assert_error(await api.client.get(api.url("/oauth/authorize/nope")), 404, "NOT_FOUND")
    response = await api.client.post(api.url("/oauth/callback/nope"), json={})
    assert_error(response, 404, "NOT_FOUND")
    response = await api.client.get(api.url("/oauth/authorize/test"))
    assert assert_error(response, 422)["errors"][0]["field"] == "redirect_uri"
    for uri in ("http://evil.example/auth/callback/test", REDIRECT_URI, CALLBACK_URI + "/"):
        response = await api.client.get(
            api.url("/oauth/authorize/test"), params={"redirect_uri": uri}
        )
        assert assert_error(response, 422, "VALIDATION_ERROR")["errors"][0]["field"] == (
            "redirect_uri"
        )
    # Allowed for another provider's name is not allowed for this one.
    response = await api.client.get(
        api.url("/oauth/authorize/test"),
        params={"redirect_uri": REDIRECT_URI.format(provider="down")},
    )
    assert_error(response, 422)


async def test_an_unreachable_provider_is_502(api: RunningApp) -> None:
    response = await api.client.get(
        api.url("/oauth/authorize/down"),
        params={"redirect_uri": REDIRECT_URI.format(provider="down")},
    )
    assert_error(response, 502, "OAUTH_PROVIDER_UNAVAILABLE")


# --- login and registration ---------------------------------------------------------------


async def test_a_first_login_creates_a_passwordless_verified_account_with_a_session(
    api: RunningApp,
) -> None:
    response = await social_login(api, "alice")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["is_new_user"] is True and body["token_type"] == "bearer"
    user = body["user"]
    assert set(user) == USER_FIELDS
    assert user["email"] == "alice@example.com"
    assert (user["first_name"], user["last_name"]) == ("Alice", "Liddell")
    assert user["is_verified"] is True and user["has_password"] is False
    me = await api.client.get(api.url("/users/me"), headers=bearer(body))
    assert me.status_code == 200 and me.json()["id"] == user["id"]
    # A real session: it refreshes, and it says how it was authenticated.
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    session = await UserSession.get(user_id=user["id"])
    assert session.amr_list == ["fed"]
    accounts = await api.client.get(api.url("/oauth/accounts"), headers=bearer(body))
    [account] = accounts.json()["accounts"]
    assert account["provider"] == "test" and account["provider_email"] == "alice@example.com"
    assert set(account) == {"id", "provider", "provider_email", "created_at"}
    assert (await OAuthAccount.get(id=account["id"])).subject == "alice"

    again = await social_tokens(api, "alice")
    assert again["is_new_user"] is False and again["user"]["id"] == user["id"]
    assert await UserSession.filter(user_id=user["id"]).count() == 2


async def test_the_calls_to_the_provider_share_one_tls_context(
    api: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discovery, the code exchange, the key set and UserInfo: several clients, one CA bundle
    loaded (httpx loads it again for each client not given a context: ~30 ms of CPU)."""
    made: list[ssl.SSLContext] = []

    def counted(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        made.append(create_default_context(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    service = api.app.ctx.auth_manager.social
    service.__dict__.pop("tls", None)  # as after the worker's start
    assert (await social_login(api, "alice")).status_code == 200
    assert (await social_login(api, "alice")).status_code == 200
    assert len(made) == 1


async def test_names_come_from_name_and_emails_are_normalized(api: RunningApp) -> None:
    body = await social_tokens(api, "carol")
    assert body["user"]["email"] == "carol@example.com"
    assert (body["user"]["first_name"], body["user"]["last_name"]) == ("Carol", "Ann Danvers")


async def test_password_login_to_a_passwordless_account_fails_like_a_wrong_password(
    api: RunningApp,
) -> None:
    await social_tokens(api, "alice")
    hasher = api.app.ctx.auth_manager.hasher
    checked: list[str] = []
    original = hasher._check

    def counting(encoded: bytes, hashed: str) -> bool:
        checked.append(hashed)
        return bool(original(encoded, hashed))

    hasher._check = counting
    try:
        response = await api.client.post(
            api.url("/auth/login"), json={"email": "alice@example.com", "password": "anything"}
        )
    finally:
        hasher._check = original
    assert_error(response, 401, "AUTH_INVALID_CREDENTIALS")
    # The same work as for a wrong password: one full hash check (against a dummy hash).
    assert len(checked) == 1 and checked[0].startswith("$2")


async def test_a_passwordless_account_can_set_a_password_through_a_reset(
    api: RunningApp,
) -> None:
    await social_tokens(api, "alice")
    token = await api.request_reset("alice@example.com")
    assert token
    response = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": STRONG_PASSWORD},
    )
    assert response.status_code == 200, response.text
    tokens = await api.login("alice@example.com")
    assert tokens["user"]["has_password"] is True


async def test_an_unverified_provider_email_never_reaches_an_existing_account(
    api: RunningApp,
) -> None:
    owner = await api.register("bob@example.com")
    await User.filter(id=owner["id"]).update(is_verified=True)
    response = await social_login(api, "bob")
    assert_error(response, 403, "OAUTH_EMAIL_NOT_VERIFIED")
    assert not await OAuthAccount.exists()
    assert await UserSession.filter(user_id=owner["id"]).count() == 0


async def test_no_email_at_all_is_refused(api: RunningApp) -> None:
    assert_error(await social_login(api, "dave"), 403, "OAUTH_EMAIL_NOT_VERIFIED")
    assert not await User.exists()


async def test_a_verified_email_links_to_a_verified_account(api: RunningApp) -> None:
    owner = await api.register("erin@example.com")
    await User.filter(id=owner["id"]).update(is_verified=True)
    body = await social_tokens(api, "erin")
    assert body["is_new_user"] is False and body["user"]["id"] == owner["id"]
    assert body["user"]["has_password"] is True
    assert await OAuthAccount.filter(user_id=owner["id"], provider="test").exists()


async def test_an_unverified_local_account_is_not_linked(api: RunningApp) -> None:
    owner = await api.register("erin@example.com")
    response = await social_login(api, "erin")
    assert_error(response, 409, "OAUTH_ACCOUNT_EXISTS")
    assert not await OAuthAccount.exists()
    assert (await User.get(id=owner["id"])).is_verified is False


async def test_an_inactive_account_cannot_log_in(api: RunningApp) -> None:
    body = await social_tokens(api, "alice")
    await User.filter(id=body["user"]["id"]).update(is_active=False)
    assert_error(await social_login(api, "alice"), 403, "ACCOUNT_INACTIVE")


async def test_an_account_with_mfa_gets_the_second_step(api: RunningApp) -> None:
    from .test_mfa import code, early_in_a_step, enable_mfa

    await early_in_a_step(margin_s=7.0)  # a whole redirect flow before the code is checked
    enabled = await enable_mfa(api, "erin@example.com")
    await User.filter(email="erin@example.com").update(is_verified=True)
    response = await social_login(api, "erin")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mfa_required"] is True and body["is_new_user"] is False
    assert body["methods"] == ["totp", "recovery_code"]
    assert "access_token" not in body
    done = await api.client.post(
        api.url("/auth/login/mfa"),
        json={"mfa_token": body["mfa_token"], "code": code(enabled["secret"], 1)},
    )
    assert done.status_code == 200, done.text
    session = await UserSession.filter(user_id=done.json()["user"]["id"]).order_by("-created_at")
    assert session[0].amr_list == ["fed", "otp", "mfa"]


# --- state, code and ID token failures -----------------------------------------------------


async def test_an_unknown_state_is_refused(api: RunningApp) -> None:
    returned = await provider_redirect(api, "alice")
    response = await callback(api, returned["code"], "not-a-state-we-made")
    error = assert_error(response, 400, "OAUTH_STATE_INVALID")["errors"][0]
    assert error["field"] == "state"
    # The code was not spent by that: the right state still works.
    assert (await callback(api, returned["code"], returned["state"])).status_code == 200


async def test_a_replayed_callback_is_refused(api: RunningApp) -> None:
    returned = await provider_redirect(api, "alice")
    first = await callback(api, returned["code"], returned["state"])
    assert first.status_code == 200, first.text
    # The state is spent.
    assert_error(await callback(api, returned["code"], returned["state"]), 400, STATE_INVALID)
    # With a new state the provider refuses the used code (and its PKCE verifier differs).
    fresh = await authorize(api)
    response = await callback(api, returned["code"], fresh["state"])
    assert assert_error(response, 400, "OAUTH_CODE_INVALID")["errors"][0]["field"] == "code"
    assert await UserSession.all().count() == 1


async def test_a_code_of_another_login_is_refused_by_the_provider(api: RunningApp) -> None:
    """Code injection: a code obtained for one login, sent with the state of another."""
    returned = await provider_redirect(api, "alice")
    other = await authorize(api)
    assert_error(await callback(api, returned["code"], other["state"]), 400, "OAUTH_CODE_INVALID")


async def test_another_redirect_uri_or_provider_spends_the_state(api: RunningApp) -> None:
    returned = await provider_redirect(api, "alice")
    response = await callback(
        api, returned["code"], returned["state"], redirect_uri="http://app.example/elsewhere"
    )
    error = assert_error(response, 400, "OAUTH_STATE_INVALID")["errors"][0]
    assert error["field"] == "redirect_uri"
    assert_error(await callback(api, returned["code"], returned["state"]), 400, STATE_INVALID)

    returned = await provider_redirect(api, "alice")
    response = await callback(
        api,
        returned["code"],
        returned["state"],
        provider="down",
        redirect_uri=REDIRECT_URI.format(provider="down"),
    )
    assert_error(response, 400, "OAUTH_STATE_INVALID")
    assert_error(await callback(api, returned["code"], returned["state"]), 400, STATE_INVALID)
    response = await callback(api, returned["code"], returned["state"], provider="nope")
    assert_error(response, 404, "NOT_FOUND")


async def test_an_expired_state_is_refused(api: RunningApp) -> None:
    from datetime import datetime, timezone

    returned = await provider_redirect(api, "alice")
    await OAuthState.filter(state_hash=hash_state(returned["state"])).update(
        expires_at=datetime.now(timezone.utc)
    )
    assert_error(await callback(api, returned["code"], returned["state"]), 400, STATE_INVALID)


async def test_an_id_token_with_another_nonce_is_refused(api: RunningApp) -> None:
    """The authorization request's nonce is replaced on its way to the provider: the provider
    signs an ID token for that other nonce, which the callback refuses."""
    started = await authorize(api)
    url = urlsplit(started["authorization_url"])
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    params["nonce"] = "a-nonce-of-the-attacker-a-nonce-of-the-attacker"
    tampered = urlunsplit(url._replace(query=urlencode(params)))
    returned = await sign_in_at_provider(tampered, "alice")
    response = await callback(api, returned["code"], returned["state"])
    assert_error(response, 401, "OAUTH_ID_TOKEN_INVALID")
    assert not await User.exists()


async def test_callback_bodies_are_validated(api: RunningApp) -> None:
    response = await api.client.post(api.url("/oauth/callback/test"), json={"code": ""})
    fields = {error["field"] for error in assert_error(response, 422)["errors"]}
    assert fields == {"code", "state", "redirect_uri"}
    response = await api.client.post(
        api.url("/oauth/callback/test"),
        params={"redirect_uri": CALLBACK_URI},
        content=b"code=x&state=y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


# --- linking and unlinking -----------------------------------------------------------------


async def start_link(api: RunningApp, tokens: dict[str, Any], provider: str = "test") -> Any:
    return await api.client.post(
        api.url(f"/oauth/link/{provider}"),
        params={"redirect_uri": REDIRECT_URI.format(provider=provider)},
        headers=bearer(tokens),
    )


async def test_linking_keeps_the_session_and_needs_its_user(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ann@example.com")
    started = await start_link(api, tokens)
    assert started.status_code == 200, started.text
    record = await OAuthState.get(state_hash=hash_state(started.json()["state"]))
    assert record.mode == "link" and str(record.user_id) == tokens["user"]["id"]
    returned = await sign_in_at_provider(started.json()["authorization_url"], "frank")

    # Without the caller's token: 401, and the state stays usable.
    assert_error(await callback(api, returned["code"], returned["state"]), 401, "AUTH_REQUIRED")
    # Another user's token: refused, and the state is spent.
    other = await api.user_with_tokens("bea@example.com")
    other_start = await start_link(api, other)
    other_returned = await sign_in_at_provider(other_start.json()["authorization_url"], "frank")
    response = await callback(
        api, other_returned["code"], other_returned["state"], **bearer(tokens)
    )
    assert_error(response, 400, "OAUTH_STATE_INVALID")

    response = await callback(api, returned["code"], returned["state"], **bearer(tokens))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_new_user"] is False and body["user"]["id"] == tokens["user"]["id"]
    # No new session: the tokens are the calling session's, and its refresh token rotates.
    assert await UserSession.filter(user_id=tokens["user"]["id"]).count() == 1
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    accounts = await api.client.get(api.url("/oauth/accounts"), headers=bearer(body))
    assert [a["provider_email"] for a in accounts.json()["accounts"]] == ["frank@example.com"]

    # The provider is linked now: a second link is refused at its start.
    assert_error(await start_link(api, body), 409, "OAUTH_ALREADY_LINKED")
    # Frank's identity now logs in to Ann's account.
    login = await social_tokens(api, "frank")
    assert login["user"]["id"] == tokens["user"]["id"] and login["is_new_user"] is False


async def test_an_identity_linked_elsewhere_cannot_be_linked_again(api: RunningApp) -> None:
    await social_tokens(api, "alice")
    tokens = await api.user_with_tokens("ann@example.com")
    started = await start_link(api, tokens)
    returned = await sign_in_at_provider(started.json()["authorization_url"], "alice")
    response = await callback(api, returned["code"], returned["state"], **bearer(tokens))
    assert_error(response, 409, "OAUTH_ALREADY_LINKED")


async def test_linking_needs_a_fresh_session(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ann@example.com")
    await age_session(tokens)
    assert_error(await start_link(api, tokens), 403, "REAUTHENTICATION_REQUIRED")
    assert_error(
        await api.client.post(api.url("/oauth/link/test"), params={"redirect_uri": CALLBACK_URI}),
        401,
        "AUTH_REQUIRED",
    )
    await age_session(tokens, 0)
    assert_error(await start_link(api, tokens, "nope"), 404, "NOT_FOUND")


async def test_the_last_login_method_cannot_be_unlinked(api: RunningApp) -> None:
    body = await social_tokens(api, "alice")
    response = await api.client.delete(api.url("/oauth/accounts/test"), headers=bearer(body))
    assert_error(response, 409, "LAST_LOGIN_METHOD")
    assert await OAuthAccount.exists()
    response = await api.client.delete(api.url("/oauth/accounts/down"), headers=bearer(body))
    assert_error(response, 404, "NOT_FOUND")


async def test_unlinking_with_a_password_left(api: RunningApp) -> None:
    owner = await api.register("erin@example.com")
    await User.filter(id=owner["id"]).update(is_verified=True)
    body = await social_tokens(api, "erin")
    # A stale session needs a proof.
    await age_session(body)
    response = await api.client.delete(api.url("/oauth/accounts/test"), headers=bearer(body))
    assert_error(response, 403, "REAUTHENTICATION_REQUIRED")
    response = await api.client.request(
        "DELETE",
        api.url("/oauth/accounts/test"),
        json={"current_password": "wrong password entirely"},
        headers=bearer(body),
    )
    assert_error(response, 403, "AUTH_WRONG_PASSWORD")
    response = await api.client.request(
        "DELETE",
        api.url("/oauth/accounts/test"),
        json={"current_password": STRONG_PASSWORD},
        headers=bearer(body),
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "message": "Test IdP account unlinked successfully"}
    assert not await OAuthAccount.exists()
    response = await api.client.delete(api.url("/oauth/accounts/test"), headers=bearer(body))
    assert_error(response, 404, "NOT_FOUND")


# --- settings ------------------------------------------------------------------------------


async def test_closed_registration_and_no_auto_link(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    api = await make_app(
        **social_settings(oidc_provider, registration_enabled=False, oauth_auto_link_by_email=False)
    )
    assert_error(await social_login(api, "alice"), 403, "REGISTRATION_DISABLED")
    user = await api.app.ctx.auth_manager.create_user(
        email="erin@example.com", password=STRONG_PASSWORD, is_verified=True
    )
    assert_error(await social_login(api, "erin"), 409, "OAUTH_ACCOUNT_EXISTS")
    assert not await OAuthAccount.filter(user_id=user.id).exists()


async def test_the_social_routes_are_rate_limited(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    api = await make_app(
        **social_settings(oidc_provider, rate_limit_enabled=True, rate_limit_oauth="2/minute")
    )
    for _ in range(2):
        await authorize(api)
    response = await api.client.get(
        api.url("/oauth/authorize/test"), params={"redirect_uri": CALLBACK_URI}
    )
    assert_error(response, 429, "RATE_LIMITED")
    assert "retry-after" in response.headers


async def test_the_cleanup_deletes_spent_and_expired_states(api: RunningApp) -> None:
    from datetime import datetime, timedelta, timezone

    from sanic_auth_sessions.db.cleanup import delete_stale_rows

    live, spent, expired = [(await authorize(api))["state"] for _ in range(3)]
    now = datetime.now(timezone.utc)
    await OAuthState.filter(state_hash=hash_state(spent)).update(used_at=now)
    await OAuthState.filter(state_hash=hash_state(expired)).update(
        expires_at=now - timedelta(seconds=1)
    )
    await delete_stale_rows(3600)
    [left] = await OAuthState.all()
    assert left.state_hash == hash_state(live)


async def test_github_gets_pkce_and_no_nonce(make_app: Any, oidc_provider: OidcProvider) -> None:
    api = await make_app(
        **social_settings(
            oidc_provider, oauth_github_client_id="gh-id", oauth_github_client_secret="gh-secret"
        )
    )
    providers = (await api.client.get(api.url("/oauth/providers"))).json()["providers"]
    assert providers[0] == {"provider": "github", "name": "GitHub", "icon": "github"}
    started = await authorize(api, "github")
    url = urlsplit(started["authorization_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "github.com", "/login/oauth/authorize")
    params = {key: values[0] for key, values in parse_qs(url.query).items()}
    assert params["client_id"] == "gh-id" and params["scope"] == "read:user user:email"
    assert params["code_challenge_method"] == "S256" and params["state"] == started["state"]
    assert params["redirect_uri"] == REDIRECT_URI.format(provider="github")
    assert "nonce" not in params
    record = await OAuthState.get(state_hash=hash_state(started["state"]))
    assert record.provider == "github" and record.nonce is None


async def test_an_inactive_account_is_not_linked_by_email(api: RunningApp) -> None:
    owner = await api.register("erin@example.com")
    await User.filter(id=owner["id"]).update(is_verified=True, is_active=False)
    assert_error(await social_login(api, "erin"), 403, "ACCOUNT_INACTIVE")
    assert not await OAuthAccount.exists()


async def test_a_github_login_end_to_end_with_its_api_stubbed(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    """GitHub cannot be reached from the tests: its token endpoint and REST API are answered
    by a stub transport given to the server's service; everything else is the real flow."""
    import httpx

    from sanic_auth_sessions.services.social import GITHUB_API_URL, GITHUB_TOKEN_URL

    api = await make_app(
        **social_settings(
            oidc_provider, oauth_github_client_id="gh-id", oauth_github_client_secret="gh-secret"
        )
    )
    exchanged: list[dict[str, list[str]]] = []

    def github(request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == GITHUB_TOKEN_URL:
            exchanged.append(parse_qs(request.content.decode()))
            if exchanged[-1]["code"] != ["good-code"]:
                return httpx.Response(200, json={"error": "bad_verification_code"})
            return httpx.Response(200, json={"access_token": "gho_x", "token_type": "bearer"})
        if url == f"{GITHUB_API_URL}/user":
            return httpx.Response(200, json={"id": 583231, "login": "octocat", "name": None})
        if url == f"{GITHUB_API_URL}/user/emails":
            primary = {"email": "octo@example.com", "primary": True, "verified": True}
            return httpx.Response(200, json=[primary])
        return httpx.Response(404)

    api.app.ctx.auth_manager.social.transport = httpx.MockTransport(github)
    started = await authorize(api, "github")
    redirect = REDIRECT_URI.format(provider="github")
    refused = await callback(
        api, "bad-code", started["state"], provider="github", redirect_uri=redirect
    )
    assert_error(refused, 400, "OAUTH_CODE_INVALID")
    started = await authorize(api, "github")
    response = await callback(
        api, "good-code", started["state"], provider="github", redirect_uri=redirect
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["is_new_user"] is True and body["user"]["email"] == "octo@example.com"
    assert (body["user"]["first_name"], body["user"]["last_name"]) == ("octocat", "")
    record = await OAuthAccount.get(user_id=body["user"]["id"])
    assert (record.provider, record.subject) == ("github", "583231")
    # PKCE is sent to GitHub too.
    assert exchanged[-1]["code_verifier"] and exchanged[-1]["redirect_uri"] == [redirect]


async def test_a_social_login_and_a_link_by_cookie(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    """With AUTH_TRANSPORT=both, a page asking for cookies gets them from the callback, and a
    link made by the access cookie (with its CSRF token) answers in cookies too."""

    origin = "https://app.example"
    api = await make_app(
        **social_settings(oidc_provider),
        transport="both",
        csrf_trusted_origins=origin,
        environment="development",
    )
    cookie = {"X-Auth-Transport": "cookie"}
    returned = await provider_redirect(api, "alice")
    refused = await callback(api, returned["code"], returned["state"], **cookie)
    assert_error(refused, 403, "CSRF_FAILED")  # a cookie login needs an allowed origin

    async with loopback_client(
        api.base_url, timeout=30, headers={"Origin": origin, **cookie}
    ) as page:
        returned = await provider_redirect(api, "alice")
        response = await page.post(
            api.url("/oauth/callback/test"),
            params={"redirect_uri": CALLBACK_URI},
            json={"code": returned["code"], "state": returned["state"]},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "cookie" and body["is_new_user"] is True
        assert "access_token" not in body and "refresh_token" not in body
        assert page.cookies.get("access_token") and page.cookies.get("refresh_token")
        me = await page.get(api.url("/users/me"))
        assert me.status_code == 200 and me.json()["email"] == "alice@example.com"

        csrf = {"X-CSRF-Token": page.cookies.get("csrf_token") or ""}
        assert_error(
            await page.post(api.url("/oauth/link/test"), params={"redirect_uri": CALLBACK_URI}),
            403,
            "CSRF_FAILED",
        )
        await OAuthAccount.all().delete()  # so that the provider can be linked again
        started = await page.post(
            api.url("/oauth/link/test"), params={"redirect_uri": CALLBACK_URI}, headers=csrf
        )
        assert started.status_code == 200, started.text
        returned = await sign_in_at_provider(started.json()["authorization_url"], "frank")
        linked = await page.post(
            api.url("/oauth/callback/test"),
            params={"redirect_uri": CALLBACK_URI},
            json={"code": returned["code"], "state": returned["state"]},
            headers=csrf,
        )
        assert linked.status_code == 200, linked.text
        assert linked.json()["token_type"] == "cookie" and linked.json()["is_new_user"] is False
        assert await UserSession.filter(user_id=body["user"]["id"]).count() == 1
        me = await page.get(api.url("/users/me"))
        assert me.status_code == 200


async def test_passkeys_and_linked_accounts_count_as_login_methods(
    make_app: Any, oidc_provider: OidcProvider
) -> None:
    """A linked account keeps a password-less account's last passkey deletable, and a passkey
    (not a flagged one) keeps its last linked account unlinkable."""
    from sanic_auth_sessions.core.models import Passkey

    api = await make_app(
        **social_settings(oidc_provider),
        webauthn_rp_id="app.example",
        webauthn_origins="https://app.example",
    )
    body = await social_tokens(api, "alice")  # no password, one link
    user_id = body["user"]["id"]

    async def passkey(**fields: Any) -> Passkey:
        return await Passkey.create(
            user_id=user_id, credential_id=f"cred-{fields}", public_key="k", **fields
        )

    flagged = await passkey(flagged=True)
    unlink = api.url("/oauth/accounts/test")
    assert_error(await api.client.delete(unlink, headers=bearer(body)), 409, "LAST_LOGIN_METHOD")
    usable = await passkey()
    response = await api.client.delete(unlink, headers=bearer(body))
    assert response.status_code == 200, response.text
    # Now the usable passkey is the last way in; with the link back, it can go.
    deleting = api.url(f"/users/me/passkeys/{usable.id}")
    assert_error(await api.client.delete(deleting, headers=bearer(body)), 409, "LAST_LOGIN_METHOD")
    await OAuthAccount.create(user_id=user_id, provider="test", subject="alice")
    response = await api.client.delete(deleting, headers=bearer(body))
    assert response.status_code == 200, response.text
    assert await Passkey.filter(id=flagged.id).exists()
