"""The provider side of social login that the loopback OpenID Connect provider cannot play:
GitHub (plain OAuth 2 and its REST API) and misbehaving providers, answered by an httpx
``MockTransport`` in place of the network. The service is the real one; only the manager it
would log in through is left out (these tests stop at the identity)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.models import OAuthState
from sanic_auth_sessions.services.social import (
    GITHUB_API_URL,
    GITHUB_TOKEN_URL,
    Identity,
    SocialLoginService,
    configured_providers,
    split_name,
)

Handler = Callable[[httpx.Request], httpx.Response]
REDIRECT = "https://app.example/auth/callback/{provider}"


def settings(**config: Any) -> AuthSettings:
    return AuthSettings.from_config(
        {
            "AUTH_ENVIRONMENT": "test",
            "AUTH_OAUTH_GITHUB_CLIENT_ID": "gh-id",
            "AUTH_OAUTH_GITHUB_CLIENT_SECRET": "gh-secret",
            "AUTH_OAUTH_REDIRECT_URIS": REDIRECT,
            **config,
        }
    )


def service(handler: Handler, **config: Any) -> SocialLoginService:
    manager: Any = SimpleNamespace(settings=settings(**config))
    return SocialLoginService(manager, transport=httpx.MockTransport(handler))


def state_record(provider: str = "github", nonce: str | None = None) -> OAuthState:
    return OAuthState(
        state_hash="h" * 64,
        provider=provider,
        redirect_uri=REDIRECT.format(provider=provider),
        mode="login",
        code_verifier="v" * 64,
        nonce=nonce,
    )


def github(
    *,
    user: Any = None,
    emails: Any = None,
    token: Any = None,
    status: int = 200,
    seen: list[httpx.Request] | None = None,
) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        url = str(request.url)
        if url == GITHUB_TOKEN_URL:
            return httpx.Response(
                200, json=token or {"access_token": "gho_x", "token_type": "bearer"}
            )
        if url == f"{GITHUB_API_URL}/user":
            return httpx.Response(status, json=user or {"id": 42, "login": "octo", "name": None})
        if url == f"{GITHUB_API_URL}/user/emails":
            return httpx.Response(status, json=emails if emails is not None else [])
        return httpx.Response(404)

    return handle


async def test_github_uses_the_numeric_id_and_the_verified_primary_address() -> None:
    seen: list[httpx.Request] = []
    social = service(
        github(
            user={"id": 42, "login": "octo", "name": "Octo Cat", "email": "public@example.com"},
            emails=[
                {"email": "other@example.com", "primary": False, "verified": True},
                {"email": "Octo@Example.com", "primary": True, "verified": True},
            ],
            seen=seen,
        )
    )
    identity = await social.identify(social.provider("github"), state_record(), "the-code")
    assert identity == Identity("42", "octo@example.com", "Octo", "Cat")
    # The code was exchanged with the PKCE verifier, for the same redirect_uri.
    exchange = parse_qs(seen[0].content.decode())
    assert exchange["code"] == ["the-code"] and exchange["code_verifier"] == ["v" * 64]
    assert exchange["redirect_uri"] == [REDIRECT.format(provider="github")]
    assert seen[1].headers["authorization"] == "Bearer gho_x"


@pytest.mark.parametrize(
    "emails",
    [
        [{"email": "octo@example.com", "primary": True, "verified": False}],
        [
            {"email": "octo@example.com", "primary": True, "verified": False},
            {"email": "other@example.com", "primary": False, "verified": True},
        ],
        [],
        {"message": "not a list"},
    ],
)
async def test_github_without_a_verified_primary_address_has_no_email(emails: Any) -> None:
    social = service(
        github(user={"id": 7, "login": "octo", "email": "public@example.com"}, emails=emails)
    )
    identity = await social.identify(social.provider("github"), state_record(), "c")
    # The /user email is never used; the login names the account.
    assert identity == Identity("7", None, "octo", "")


async def test_a_refused_code_and_a_broken_api() -> None:
    refused = service(github(token={"error": "bad_verification_code"}))
    with pytest.raises(errors.OAuthCodeInvalid):
        await refused.identify(refused.provider("github"), state_record(), "c")
    broken = service(github(status=500))
    with pytest.raises(errors.OAuthProviderUnavailable):
        await broken.identify(broken.provider("github"), state_record(), "c")

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("too slow", request=request)

    slow = service(timeout)
    with pytest.raises(errors.OAuthProviderUnavailable):
        await slow.identify(slow.provider("github"), state_record(), "c")

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>")

    page = service(html)
    with pytest.raises(errors.OAuthProviderUnavailable):
        await page.identify(page.provider("github"), state_record(), "c")


def discovery(issuer: str, **document: Any) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url) == "https://idp.example/.well-known/openid-configuration":
            body = {
                "issuer": issuer,
                "authorization_endpoint": "https://idp.example/authorize",
                "token_endpoint": "https://idp.example/token",
                "jwks_uri": "https://idp.example/jwks",
                **document,
            }
            return httpx.Response(200, content=json.dumps(body))
        return httpx.Response(404)

    return handle


OIDC = json.dumps(
    [
        {
            "name": "corp",
            "display_name": "Corp",
            "issuer": "https://idp.example",
            "client_id": "c",
            "client_secret": "s",
        }
    ]
)


async def test_a_discovery_document_of_another_issuer_is_refused() -> None:
    social = service(discovery("https://elsewhere.example"), AUTH_OIDC_PROVIDERS=OIDC)
    with pytest.raises(errors.OAuthProviderUnavailable):
        await social.authorization_endpoint(social.provider("corp"))
    good = service(discovery("https://idp.example"), AUTH_OIDC_PROVIDERS=OIDC)
    endpoint = await good.authorization_endpoint(good.provider("corp"))
    assert endpoint == "https://idp.example/authorize"


async def test_an_id_token_signed_with_the_client_secret_is_refused() -> None:
    from joserfc import jwt
    from joserfc.jwk import OctKey

    social = service(discovery("https://idp.example"), AUTH_OIDC_PROVIDERS=OIDC)
    document = await social.discovery(social.provider("corp"))
    secret = OctKey.import_key("s" * 32)
    forged = jwt.encode(
        {"alg": "HS256"},
        {"iss": "https://idp.example", "aud": "c", "sub": "x", "exp": 4102444800, "nonce": "n"},
        secret,
    )

    def jwks(request: httpx.Request) -> httpx.Response:
        # Even a key set that holds the secret (a careless provider) cannot make HS256 pass.
        return httpx.Response(200, json={"keys": [secret.as_dict(private=True)]})

    social.transport = httpx.MockTransport(jwks)
    with pytest.raises(errors.OAuthIdTokenInvalid):
        await social.verify_id_token(social.provider("corp"), document, forged, "n")


def test_providers_come_in_the_contracts_order() -> None:
    found = configured_providers(
        settings(
            AUTH_OIDC_PROVIDERS=OIDC,
            AUTH_OAUTH_GOOGLE_CLIENT_ID="g",
            AUTH_OAUTH_GOOGLE_CLIENT_SECRET="gs",
        )
    )
    assert list(found) == ["google", "github", "corp"]
    assert found["google"].issuer == "https://accounts.google.com"
    assert found["github"].scopes == ("read:user", "user:email")
    # Half a preset is no provider.
    assert list(configured_providers(settings(AUTH_OAUTH_GITHUB_CLIENT_SECRET=""))) == []


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"given_name": "Ann", "family_name": "Lee", "name": "X Y"}, ("Ann", "Lee")),
        ({"given_name": "Ann"}, ("Ann", "")),
        ({"name": "  Jean Luc Picard "}, ("Jean", "Luc Picard")),
        ({"name": "Cher"}, ("Cher", "")),
        ({"name": "A\u202eB\x00C " + "x" * 200}, ("ABC", "x" * 100)),
        ({}, ("", "")),
    ],
)
def test_names(claims: dict[str, Any], expected: tuple[str, str]) -> None:
    assert split_name(claims) == expected


def id_token_of(key: Any, **claims: Any) -> str:
    from joserfc import jwt

    body = {"iss": "https://idp.example", "aud": "c", "sub": "u1", "exp": 4102444800, "nonce": "n"}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, {**body, **claims}, key)


async def test_keys_are_fetched_again_for_an_unknown_kid() -> None:
    from joserfc.jwk import RSAKey

    old, new = RSAKey.generate_key(2048), RSAKey.generate_key(2048)
    for key in (old, new):
        key.ensure_kid()
    published = [old]
    fetches: list[str] = []
    base = discovery("https://idp.example")

    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url) == "https://idp.example/jwks":
            fetches.append("jwks")
            return httpx.Response(200, json={"keys": [k.as_dict(private=False) for k in published]})
        return base(request)

    social = service(handle, AUTH_OIDC_PROVIDERS=OIDC)
    provider = social.provider("corp")
    document = await social.discovery(provider)
    assert (await social.verify_id_token(provider, document, id_token_of(old), "n"))["sub"] == "u1"
    assert fetches == ["jwks"]
    assert (await social.verify_id_token(provider, document, id_token_of(old), "n"))["sub"] == "u1"
    assert fetches == ["jwks"]  # cached
    published.append(new)  # the provider rotates: a token names a key we have not seen
    assert (await social.verify_id_token(provider, document, id_token_of(new), "n"))["sub"] == "u1"
    assert fetches == ["jwks", "jwks"]
    # The claims are checked too.
    for wrong in ({"aud": "other"}, {"iss": "https://evil.example"}, {"exp": 1}, {"nonce": "m"}):
        with pytest.raises(errors.OAuthIdTokenInvalid):
            await social.verify_id_token(provider, document, id_token_of(new, **wrong), "n")
    with pytest.raises(errors.OAuthIdTokenInvalid):
        await social.verify_id_token(provider, document, "not.a.token", "n")


@pytest.mark.parametrize("offered", [["HS256"], ["none"], [], "RS256", 5])
async def test_an_id_token_is_refused_unless_an_asymmetric_algorithm_is_offered(
    offered: Any,
) -> None:
    """A document offering only HS256 (or nothing usable) must not leave the choice of
    algorithms to the JOSE library, whose defaults include HS256."""
    from joserfc import jwt
    from joserfc.jwk import OctKey

    social = service(
        discovery("https://idp.example", id_token_signing_alg_values_supported=offered),
        AUTH_OIDC_PROVIDERS=OIDC,
    )
    document = await social.discovery(social.provider("corp"))
    secret = OctKey.import_key("s" * 32)
    forged = jwt.encode(
        {"alg": "HS256"},
        {"iss": "https://idp.example", "aud": "c", "sub": "x", "exp": 4102444800, "nonce": "n"},
        secret,
    )
    social.transport = httpx.MockTransport(
        lambda request: httpx.Response(200, json={"keys": [secret.as_dict(private=True)]})
    )
    expected = (
        errors.OAuthProviderUnavailable
        if not isinstance(offered, list)
        else errors.OAuthIdTokenInvalid
    )
    with pytest.raises(expected):
        await social.verify_id_token(social.provider("corp"), document, forged, "n")


async def test_an_issuer_with_a_trailing_slash_is_kept_as_configured() -> None:
    slashed = json.dumps([{**json.loads(OIDC)[0], "issuer": "https://idp.example/"}])
    social = service(discovery("https://idp.example/"), AUTH_OIDC_PROVIDERS=slashed)
    provider = social.provider("corp")
    assert provider.issuer == "https://idp.example/"
    assert await social.authorization_endpoint(provider) == "https://idp.example/authorize"
    # the document of the slash-less issuer is another issuer's
    other = service(discovery("https://idp.example"), AUTH_OIDC_PROVIDERS=slashed)
    with pytest.raises(errors.OAuthProviderUnavailable):
        await other.authorization_endpoint(other.provider("corp"))


@pytest.mark.parametrize(
    ("subject", "email"),
    [("s" * 256, None), ("", None), ("ok", "a" * 250 + "@x.io"), ("ok", "a\x00b@example.com")],
)
def test_an_identity_no_account_can_store_is_an_unexpected_answer(
    subject: str, email: str | None
) -> None:
    with pytest.raises(errors.OAuthProviderUnavailable):
        Identity(subject=subject, email=email, first_name="", last_name="")
    assert Identity(subject="s" * 255, email="a@example.com", first_name="", last_name="")


async def test_a_token_answer_without_an_id_token_is_refused() -> None:
    base = discovery("https://idp.example")

    def handle(request: httpx.Request) -> httpx.Response:
        if str(request.url) == "https://idp.example/token":
            return httpx.Response(200, json={"access_token": "at", "token_type": "Bearer"})
        return base(request)

    social = service(handle, AUTH_OIDC_PROVIDERS=OIDC)
    with pytest.raises(errors.OAuthIdTokenInvalid):
        await social.identify(social.provider("corp"), state_record("corp", "n"), "code")
