"""Social login: OpenID Connect and OAuth 2 providers (Google, GitHub, any OIDC issuer).

The protocol is Authlib's (the authorization URL with PKCE S256, the code exchange) and
joserfc's (the ID token's signature against the provider's JWKS and its claims); HTTP is
httpx's. This module holds the rules: which redirect URIs are allowed, the state records,
which account an identity logs in to, links and unlinks. No HTTP framework here.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import ssl
import time
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal, cast
from uuid import UUID

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from tortoise.exceptions import IntegrityError

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.core.devices import DeviceInfo, clean_text
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.models import (
    EMAIL_MAX_CHARS,
    NAME_MAX_CHARS,
    SUBJECT_MAX_CHARS,
    OAuthAccount,
    OAuthState,
    Passkey,
    User,
)
from sanic_auth_sessions.core.tokens import TokenPair
from sanic_auth_sessions.db.connection import transaction

if TYPE_CHECKING:
    import httpx
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    from sanic_auth_sessions.services.manager import AuthContext, LoginResult, UserManager
    from sanic_auth_sessions.services.mfa import MfaChallengeResult

logger = logging.getLogger("sanic_auth_sessions")


def oauth2_client_class() -> type[AsyncOAuth2Client]:
    """Authlib's OAuth 2 client for httpx, imported at the first call to a provider: with
    httpx it is a tenth of a second of every process's start, and most apps have none.

    Authlib prefers the ``httpx2`` package (Python 3.11 or newer) and warns, at its import,
    when it runs on ``httpx`` instead, which it still supports fully. The package supports
    Python 3.10, so it uses httpx, without that warning."""
    from authlib.deprecate import AuthlibDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AuthlibDeprecationWarning)
        from authlib.integrations.httpx_client import AsyncOAuth2Client

    return cast("type[AsyncOAuth2Client]", AsyncOAuth2Client)  # Authlib has no type hints


STATE_BYTES = 32
NONCE_BYTES = 32
PKCE_VERIFIER_CHARS = 64  # RFC 7636: 43..128 characters of the unreserved set
FEDERATED_AMR = ("fed",)
# Asymmetric algorithms only: an ID token signed with the client secret (HS*) or unsigned
# ("none") is refused.
ID_TOKEN_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
GOOGLE_ISSUER = "https://accounts.google.com"
GITHUB_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
GITHUB_API_URL = "https://api.github.com"

Mode = Literal["login", "link"]


@dataclass(frozen=True)
class Provider:
    """A configured provider: ``oidc`` (found by discovery at its issuer) or ``github``."""

    name: str
    display_name: str
    icon: str | None
    kind: Literal["oidc", "github"]
    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    issuer: str | None = None


def configured_providers(settings: AuthSettings) -> dict[str, Provider]:
    """The providers with a client id and secret, in the contract's order: Google, GitHub,
    then ``AUTH_OIDC_PROVIDERS`` in order."""
    found: dict[str, Provider] = {}
    if settings.oauth_google_client_id and settings.oauth_google_client_secret:
        found["google"] = Provider(
            name="google",
            display_name="Google",
            icon="google",
            kind="oidc",
            client_id=settings.oauth_google_client_id,
            client_secret=settings.oauth_google_client_secret,
            scopes=("openid", "email", "profile"),
            issuer=GOOGLE_ISSUER,
        )
    if settings.oauth_github_client_id and settings.oauth_github_client_secret:
        found["github"] = Provider(
            name="github",
            display_name="GitHub",
            icon="github",
            kind="github",
            client_id=settings.oauth_github_client_id,
            client_secret=settings.oauth_github_client_secret,
            scopes=("read:user", "user:email"),
        )
    for entry in settings.oidc_providers:
        found[entry.name] = Provider(
            name=entry.name,
            display_name=entry.display_name,
            icon=entry.icon,
            kind="oidc",
            client_id=entry.client_id,
            client_secret=entry.client_secret,
            scopes=entry.scopes,
            issuer=entry.issuer,
        )
    return found


@dataclass(frozen=True)
class Identity:
    """Who the provider says the user is. ``email`` is set only when the provider asserts it
    verified it."""

    subject: str
    email: str | None
    first_name: str
    last_name: str

    def __post_init__(self) -> None:
        # What no account can store is an answer we did not expect: 502, never a 500.
        if not self.subject or len(self.subject) > SUBJECT_MAX_CHARS:
            raise errors.OAuthProviderUnavailable()
        if self.email is not None and (len(self.email) > EMAIL_MAX_CHARS or "\x00" in self.email):
            raise errors.OAuthProviderUnavailable()


@dataclass(frozen=True)
class AuthorizationStart:
    authorization_url: str
    state: str


@dataclass(frozen=True)
class SocialLoginOutcome:
    """A callback's result: the user and tokens (a new session in login mode, the calling
    session's in link mode), or the second step of an account with MFA."""

    user: User | None
    tokens: TokenPair | None
    mfa: MfaChallengeResult | None
    is_new_user: bool
    session_id: UUID | None = None


@dataclass
class _Cached:
    value: dict[str, Any]
    until: float


def hash_state(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def split_name(claims: dict[str, Any], fallback: str = "") -> tuple[str, str]:
    """First and last name: ``given_name``/``family_name``, else ``name`` split at its first
    space, else ``fallback``; cleaned as header values and cut to the column."""
    given, family = claims.get("given_name"), claims.get("family_name")
    if isinstance(given, str) or isinstance(family, str):
        first = given if isinstance(given, str) else ""
        last = family if isinstance(family, str) else ""
    elif isinstance(claims.get("name"), str) and claims["name"].strip():
        first, _, last = claims["name"].strip().partition(" ")
    else:
        first, last = fallback, ""
    return clean_text(first, NAME_MAX_CHARS), clean_text(last, NAME_MAX_CHARS)


class SocialLoginService:
    """The social-login rules of one worker; the discovery documents and key sets it fetched
    are cached here for ``AUTH_OIDC_DISCOVERY_CACHE_S``."""

    def __init__(
        self, manager: UserManager, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.manager = manager
        self.settings = manager.settings
        self.providers = configured_providers(self.settings)
        # Tests (and hosts with unusual networks) may route the provider calls elsewhere.
        self.transport = transport
        self._discovery: dict[str, _Cached] = {}
        self._jwks: dict[str, _Cached] = {}

    # --- providers and their documents ---------------------------------------------------

    def provider(self, name: str) -> Provider:
        found = self.providers.get(name)
        if found is None:
            raise errors.NotFound("Unknown or unconfigured login provider.")
        return found

    def check_redirect_uri(self, provider: Provider, redirect_uri: str) -> None:
        allowed = (
            uri.replace("{provider}", provider.name) for uri in self.settings.oauth_redirect_uris
        )
        if redirect_uri not in allowed:
            raise errors.ValidationFailed(
                [
                    errors.ErrorDetail(
                        "VALIDATION_ERROR",
                        "This redirect_uri is not one of AUTH_OAUTH_REDIRECT_URIS.",
                        "redirect_uri",
                    )
                ]
            )

    def load(self) -> None:
        """Import the OAuth client and make the TLS context now if there are providers."""
        if self.providers:
            oauth2_client_class()
            _ = self.tls

    @functools.cached_property
    def tls(self) -> ssl.SSLContext:
        """One TLS context for every call to the providers: httpx would otherwise load the CA
        bundle again for each client it makes (about 30 ms of CPU per call)."""
        import httpx

        return httpx.create_ssl_context()

    def http(self) -> httpx.AsyncClient:
        import httpx

        return httpx.AsyncClient(
            timeout=self.settings.oauth_http_timeout_s, transport=self.transport, verify=self.tls
        )

    def oauth_client(self, provider: Provider, redirect_uri: str) -> AsyncOAuth2Client:
        return oauth2_client_class()(
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            scope=" ".join(provider.scopes),
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.settings.oauth_http_timeout_s,
            transport=self.transport,
            verify=self.tls,
        )

    async def _get_json(self, url: str, **kwargs: Any) -> Any:
        """GET ``url``'s JSON; 502 ``OAUTH_PROVIDER_UNAVAILABLE`` for anything but a 200 with
        JSON (unreachable, too slow, an error page)."""
        import httpx

        try:
            async with self.http() as client:
                response = await client.get(url, **kwargs)
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("The login provider at %s failed: %r", url, exc)
            raise errors.OAuthProviderUnavailable() from None

    async def _cached(
        self, cache: dict[str, _Cached], url: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        hit = cache.get(url)
        if hit is not None and not fresh and hit.until > time.monotonic():
            return hit.value
        document = await self._get_json(url)
        if not isinstance(document, dict):
            raise errors.OAuthProviderUnavailable()
        cache[url] = _Cached(document, time.monotonic() + self.settings.oidc_discovery_cache_s)
        return document

    async def discovery(self, provider: Provider) -> dict[str, Any]:
        """The provider's discovery document; its ``issuer`` must be the configured one."""
        assert provider.issuer is not None
        url = f"{provider.issuer.rstrip('/')}/.well-known/openid-configuration"
        document = await self._cached(self._discovery, url)
        needed = ("authorization_endpoint", "token_endpoint", "jwks_uri")
        if document.get("issuer") != provider.issuer or not all(
            isinstance(document.get(key), str) for key in needed
        ):
            self._discovery.pop(url, None)
            logger.warning("The discovery document of %s is not usable.", provider.name)
            raise errors.OAuthProviderUnavailable()
        return document

    async def authorization_endpoint(self, provider: Provider) -> str:
        if provider.kind == "github":
            return GITHUB_AUTHORIZE_URL
        endpoint: str = (await self.discovery(provider))["authorization_endpoint"]
        return endpoint

    # --- starting a login or a link ------------------------------------------------------

    async def start(
        self, provider_name: str, redirect_uri: str, *, ctx: AuthContext | None = None
    ) -> AuthorizationStart:
        """A state record and the provider's authorization URL. With ``ctx``, link mode bound
        to the caller (whose session must be fresh: linking is a sensitive action)."""
        provider = self.provider(provider_name)
        self.check_redirect_uri(provider, redirect_uri)
        if ctx is not None:
            if not self.manager.is_fresh(ctx.session):
                raise errors.ReauthenticationRequired()
            if await OAuthAccount.filter(user_id=ctx.user.id, provider=provider.name).exists():
                raise errors.OAuthAlreadyLinked(
                    f"A {provider.display_name} account is already linked to yours."
                )
        endpoint = await self.authorization_endpoint(provider)
        state = secrets.token_urlsafe(STATE_BYTES)
        from authlib.common.security import generate_token

        verifier = generate_token(PKCE_VERIFIER_CHARS)
        nonce = secrets.token_urlsafe(NONCE_BYTES) if provider.kind == "oidc" else None
        await OAuthState.create(
            state_hash=hash_state(state),
            provider=provider.name,
            redirect_uri=redirect_uri,
            mode="link" if ctx is not None else "login",
            user_id=ctx.user.id if ctx is not None else None,
            session_id=ctx.session.id if ctx is not None else None,
            code_verifier=verifier,
            nonce=nonce,
            expires_at=utcnow() + timedelta(seconds=self.settings.oauth_state_ttl_s),
        )
        extra = {"nonce": nonce} if nonce is not None else {}
        async with self.oauth_client(provider, redirect_uri) as client:
            url, _ = client.create_authorization_url(
                endpoint, state=state, code_verifier=verifier, **extra
            )
        return AuthorizationStart(authorization_url=url, state=state)

    # --- the callback --------------------------------------------------------------------

    async def callback(
        self,
        provider_name: str,
        redirect_uri: str,
        code: str,
        state: str,
        *,
        device: DeviceInfo,
        authenticate: Callable[[], Awaitable[AuthContext]],
    ) -> SocialLoginOutcome:
        """Check and spend the state, exchange the code, learn the identity, then log in (or
        register) or link. ``authenticate`` resolves the caller; it is called only for a link,
        and its refusal (401) leaves the state unspent."""
        provider = self.provider(provider_name)
        record = await OAuthState.get_or_none(state_hash=hash_state(state))
        if record is None or record.used_at is not None or record.expires_at <= utcnow():
            raise errors.OAuthStateInvalid(field="state")
        if record.provider != provider.name:
            await self._spend(record)
            raise errors.OAuthStateInvalid(field="state")
        if record.redirect_uri != redirect_uri:
            await self._spend(record)
            raise errors.OAuthStateInvalid(
                "The redirect_uri is not the one the login started with.", field="redirect_uri"
            )
        ctx: AuthContext | None = None
        if record.mode == "link":
            ctx = await authenticate()  # 401 without a caller: the state stays usable
            if str(ctx.user.id) != str(record.user_id):
                await self._spend(record)
                raise errors.OAuthStateInvalid(field="state")
        if not await self._spend(record):  # a concurrent callback spent it first
            raise errors.OAuthStateInvalid(field="state")
        identity = await self.identify(provider, record, code)
        if ctx is not None:
            return await self.link(provider, identity, ctx)
        return await self.login(provider, identity, device)

    async def _spend(self, record: OAuthState) -> bool:
        return bool(await OAuthState.filter(id=record.id, used_at=None).update(used_at=utcnow()))

    async def identify(self, provider: Provider, record: OAuthState, code: str) -> Identity:
        """Exchange the code (with the PKCE verifier) and read the identity."""
        async with self.oauth_client(provider, record.redirect_uri) as client:
            if provider.kind == "github":
                await self._exchange(client, GITHUB_TOKEN_URL, code, record)
                return await self._github_identity(client)
            document = await self.discovery(provider)
            token = await self._exchange(client, document["token_endpoint"], code, record)
            id_token = token.get("id_token")
            if not isinstance(id_token, str):
                raise errors.OAuthIdTokenInvalid("The provider sent no ID token.")
            claims = await self.verify_id_token(provider, document, id_token, record.nonce)
            if "email" not in claims and isinstance(document.get("userinfo_endpoint"), str):
                info = await self._userinfo(client, document["userinfo_endpoint"])
                if info.get("sub") == claims["sub"]:
                    claims = {**info, **claims}
        email = claims.get("email")
        verified = claims.get("email_verified") is True and isinstance(email, str) and email
        return Identity(
            subject=str(claims["sub"]),
            email=normalize_email(str(email)) if verified else None,
            first_name=split_name(claims)[0],
            last_name=split_name(claims)[1],
        )

    async def _exchange(
        self, client: AsyncOAuth2Client, url: str, code: str, record: OAuthState
    ) -> dict[str, Any]:
        import httpx
        from authlib.integrations.httpx_client import OAuthError  # imported with the client

        try:
            token: dict[str, Any] = await client.fetch_token(
                url, code=code, code_verifier=record.code_verifier
            )
        except OAuthError as refused:
            logger.info("The provider refused a code: %s", refused.error)
            raise errors.OAuthCodeInvalid(field="code") from None
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("The provider's token endpoint failed: %r", exc)
            raise errors.OAuthProviderUnavailable() from None
        return token

    async def _api(self, client: AsyncOAuth2Client, url: str) -> Any:
        import httpx

        try:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("The provider's API at %s failed: %r", url, exc)
            raise errors.OAuthProviderUnavailable() from None

    async def _userinfo(self, client: AsyncOAuth2Client, url: str) -> dict[str, Any]:
        info = await self._api(client, url)
        return info if isinstance(info, dict) else {}

    async def _github_identity(self, client: AsyncOAuth2Client) -> Identity:
        """GitHub: the numeric ``id`` of ``/user``, and the primary address of
        ``/user/emails`` if it is verified (the ``/user`` email is never used)."""
        user = await self._api(client, f"{GITHUB_API_URL}/user")
        emails = await self._api(client, f"{GITHUB_API_URL}/user/emails")
        if not isinstance(user, dict) or not isinstance(user.get("id"), int):
            raise errors.OAuthProviderUnavailable()
        primary = next(
            (
                item
                for item in (emails if isinstance(emails, list) else [])
                if isinstance(item, dict) and item.get("primary") is True
            ),
            None,
        )
        email = None
        if primary and primary.get("verified") is True and isinstance(primary.get("email"), str):
            email = normalize_email(primary["email"])
        raw_login = user.get("login")
        login = raw_login if isinstance(raw_login, str) else ""
        first, last = split_name({"name": user.get("name")}, fallback=login)
        return Identity(subject=str(user["id"]), email=email, first_name=first, last_name=last)

    async def _keys(self, document: dict[str, Any], *, fresh: bool = False) -> KeySet:
        jwks = await self._cached(self._jwks, document["jwks_uri"], fresh=fresh)
        try:
            keys: KeySet = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
            return keys
        except (JoseError, ValueError, TypeError, KeyError):
            raise errors.OAuthProviderUnavailable() from None

    async def verify_id_token(
        self, provider: Provider, document: dict[str, Any], id_token: str, nonce: str | None
    ) -> dict[str, Any]:
        """The ID token's claims once its signature (the provider's JWKS; keys fetched again
        once for an unknown ``kid``), ``iss``, ``aud``, ``exp`` and ``nonce`` are right;
        401 ``OAUTH_ID_TOKEN_INVALID`` otherwise."""
        if provider.issuer is None or nonce is None:  # not reached: OIDC states have both
            raise errors.OAuthIdTokenInvalid()
        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        if not isinstance(offered, list):
            raise errors.OAuthProviderUnavailable()
        algorithms = [alg for alg in offered if isinstance(alg, str) and alg in ID_TOKEN_ALGORITHMS]
        if not algorithms:
            # An empty list would let the JOSE library choose its own (HS256 among them).
            logger.info("No asymmetric ID-token algorithm is offered by %s.", provider.name)
            raise errors.OAuthIdTokenInvalid()
        keys = await self._keys(document)
        try:
            kid = jws.extract_compact(id_token.encode()).headers().get("kid")
        except (JoseError, ValueError):
            raise errors.OAuthIdTokenInvalid() from None
        if kid is not None and all(key.kid != kid for key in keys.keys):
            keys = await self._keys(document, fresh=True)  # the provider rotated its keys
        try:
            token = jwt.decode(id_token, keys, algorithms=algorithms)
            jwt.JWTClaimsRegistry(
                leeway=self.settings.clock_skew_s,
                iss={"essential": True, "value": provider.issuer},
                aud={"essential": True, "value": provider.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            logger.info("An ID token of %s was refused: %r", provider.name, exc)
            raise errors.OAuthIdTokenInvalid() from None
        return dict(token.claims)

    # --- what the identity does ----------------------------------------------------------

    async def login(
        self, provider: Provider, identity: Identity, device: DeviceInfo
    ) -> SocialLoginOutcome:
        """Login mode: the linked account; else the verified account of the verified email
        (auto-link); else a new account; see the contract for each refusal."""
        link = await OAuthAccount.get_or_none(provider=provider.name, subject=identity.subject)
        linked_user = await User.get_or_none(id=link.user_id) if link is not None else None
        is_new = False
        if linked_user is not None:
            user = linked_user
        else:
            if identity.email is None:
                raise errors.OAuthEmailNotVerified()
            existing = await User.get_or_none(email=identity.email)
            if existing is not None:
                if not (self.settings.oauth_auto_link_by_email and existing.is_verified):
                    raise errors.OAuthAccountExists()
                if not existing.is_active:
                    raise errors.AccountInactive()
                user = existing
                await self._link(user, provider, identity)
            else:
                user = await self._register(provider, identity, device)
                is_new = True
        if not user.is_active:
            await self.manager.audit("login.failed", user_id=user.id, reason="inactive")
            raise errors.AccountInactive()
        if self.settings.require_verified_email and not user.is_verified:
            await self.manager.audit("login.failed", user_id=user.id, reason="unverified")
            raise errors.EmailNotVerified()
        if user.mfa_enabled:
            challenge = await self.manager.mfa.challenge(user, device, first_factor="fed")
            return SocialLoginOutcome(user=None, tokens=None, mfa=challenge, is_new_user=False)
        result: LoginResult = await self.manager.sign_in(
            user, device, method=f"oauth:{provider.name}", amr=FEDERATED_AMR
        )
        return SocialLoginOutcome(
            user=result.user,
            tokens=result.tokens,
            mfa=None,
            is_new_user=is_new,
            session_id=result.session.id,
        )

    async def _link(self, user: User, provider: Provider, identity: Identity) -> None:
        """Link ``identity`` to ``user`` (an auto-link by email also marks it verified)."""
        try:
            async with transaction():
                await OAuthAccount.create(
                    user_id=user.id,
                    provider=provider.name,
                    subject=identity.subject,
                    provider_email=identity.email,
                )
                if not user.is_verified:
                    await User.filter(id=user.id).update(is_verified=True)
                    user.is_verified = True
        except IntegrityError:  # linked meanwhile, to this identity or this provider
            raise errors.OAuthAlreadyLinked() from None
        await self.manager.audit("oauth.linked", user_id=user.id, provider=provider.name)

    async def _register(self, provider: Provider, identity: Identity, device: DeviceInfo) -> User:
        if not self.settings.registration_enabled:
            raise errors.RegistrationClosed()
        assert identity.email is not None
        try:
            async with transaction():
                user = await User.create(
                    email=identity.email,
                    hashed_password="",  # no password until the user sets one (reset routes)
                    first_name=identity.first_name,
                    last_name=identity.last_name,
                    is_verified=True,
                )
                await OAuthAccount.create(
                    user_id=user.id,
                    provider=provider.name,
                    subject=identity.subject,
                    provider_email=identity.email,
                )
        except IntegrityError:  # the email or the identity was taken meanwhile
            raise errors.OAuthAccountExists() from None
        await self.manager.audit(
            "user.registered", user_id=user.id, method=f"oauth:{provider.name}"
        )
        await self.manager.audit("oauth.linked", user_id=user.id, provider=provider.name)
        await self.manager.on_after_register(user, device)
        return user

    async def link(
        self, provider: Provider, identity: Identity, ctx: AuthContext
    ) -> SocialLoginOutcome:
        """Link mode: attach the identity to the caller; no new session. The tokens are for
        the calling session (its refresh token carries the session's current ``jti``)."""
        taken = await OAuthAccount.filter(provider=provider.name, subject=identity.subject).exists()
        mine = await OAuthAccount.filter(user_id=ctx.user.id, provider=provider.name).exists()
        if taken or mine:
            raise errors.OAuthAlreadyLinked()
        try:
            await OAuthAccount.create(
                user_id=ctx.user.id,
                provider=provider.name,
                subject=identity.subject,
                provider_email=identity.email,
            )
        except IntegrityError:
            raise errors.OAuthAlreadyLinked() from None
        await self.manager.audit(
            "oauth.linked", user_id=ctx.user.id, session_id=ctx.session.id, provider=provider.name
        )
        session = ctx.session
        tokens = self.manager.codec.issue_pair(
            user_id=ctx.user.id,
            session_id=session.id,
            refresh_jti=session.refresh_token_jti,
            auth_time=session.authenticated_at,
            amr=session.amr_list,
            refresh_expires_at=session.expires_at,
        )
        return SocialLoginOutcome(
            user=ctx.user, tokens=tokens, mfa=None, is_new_user=False, session_id=session.id
        )

    # --- the caller's linked accounts ----------------------------------------------------

    async def accounts(self, user: User) -> list[OAuthAccount]:
        return await OAuthAccount.filter(user_id=user.id).order_by("created_at", "id")

    async def login_methods(self, user: User) -> int:
        """How many ways the account has to log in: its password, its linked identities and
        its passkeys that are not flagged. Override to count other methods a host adds."""
        links = await OAuthAccount.filter(user_id=user.id).count()
        passkeys = await Passkey.filter(user_id=user.id, flagged=False).count()
        return int(user.has_password) + links + passkeys

    async def unlink(
        self,
        ctx: AuthContext,
        provider_name: str,
        *,
        current_password: str | None = None,
        code: str | None = None,
        recovery_code: str | None = None,
    ) -> str:
        """Remove the caller's link to ``provider_name`` (a sensitive action: step-up); the
        provider's display name. 404 when not linked, 409 ``LAST_LOGIN_METHOD``."""
        await self.manager.require_step_up(
            ctx, current_password=current_password, code=code, recovery_code=recovery_code
        )
        link = await OAuthAccount.get_or_none(user_id=ctx.user.id, provider=provider_name)
        if link is None:
            raise errors.NotFound("No account of this provider is linked.")
        async with transaction():
            # One unlink at a time per account, so two cannot both leave the other.
            await User.filter(id=ctx.user.id).select_for_update().only("id").first()
            if await self.login_methods(ctx.user) <= 1:
                raise errors.LastLoginMethod()
            await OAuthAccount.filter(id=link.id).delete()
        await self.manager.audit(
            "oauth.unlinked", user_id=ctx.user.id, session_id=ctx.session.id, provider=provider_name
        )
        known = self.providers.get(provider_name)
        return known.display_name if known else provider_name.capitalize()
