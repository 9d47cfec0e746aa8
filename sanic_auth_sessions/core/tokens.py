"""JWT access and refresh tokens: issue and verify, nothing else."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from uuid import UUID

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import JWKRegistry

from sanic_auth_sessions.core.config import ASYMMETRIC_PREFIXES, AuthSettings, ConfigurationError
from sanic_auth_sessions.core.errors import InvalidToken

TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ("sub", "sid", "jti", "type", "iat", "exp", "iss", "aud")
# Access tokens also name the session's latest authentication (its time and RFC 8176 methods);
# access tokens issued before they did are refused.
ACCESS_CLAIMS = ("auth_time", "amr")
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True)
class TokenClaims:
    user_id: UUID
    session_id: UUID
    jti: str
    type: TokenType
    expires_at: datetime
    # Access tokens only (None in a refresh token's claims).
    auth_time: datetime | None = None
    amr: tuple[str, ...] = ()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    refresh_jti: str
    expires_in: int  # access token lifetime, in seconds
    refresh_expires_at: datetime


def new_jti() -> str:
    return secrets.token_urlsafe(24)


KEY_CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
RSA_KEY_BITS = 3072


def generate_key_pair(algorithm: str) -> tuple[str, str]:
    """A new (private, public) PEM pair for ``algorithm`` (``RS*``: RSA 3072, ``ES*``: its
    curve), made by ``cryptography``."""
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if algorithm.startswith("RS"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    elif algorithm in KEY_CURVES:
        private = ec.generate_private_key(KEY_CURVES[algorithm])
    else:
        raise ConfigurationError(f"Key pairs are for RS*/ES* algorithms, not {algorithm}.")
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem.decode(), public_pem.decode()


def public_jwk(pem: str, algorithm: str, what: str = "the key") -> dict[str, Any]:
    """The public JWK of a PEM key (public or private) for ``algorithm`` (``RS*``/``ES*``),
    with ``use``, ``alg`` and its RFC 7638 thumbprint as ``kid``; ConfigurationError when the
    key does not suit the algorithm."""
    key_type = "RSA" if algorithm.startswith("RS") else "EC"
    try:
        key = JWKRegistry.import_key(pem, key_type)
        jwt.get_algorithm_by_name(algorithm).prepare_key(pem)
    except Exception as exc:  # joserfc and PyJWT raise several kinds for an unusable key
        message = f"{what} is not a usable {key_type} key for AUTH_ALGORITHM={algorithm}: {exc}"
        raise ConfigurationError(message) from None
    members = key.as_dict(private=False)
    return {**members, "use": "sig", "alg": algorithm, "kid": key.thumbprint()}


class TokenCodec:
    """Issues and verifies tokens with the keys of ``settings``.

    Times allow ``AUTH_CLOCK_SKEW_S`` of leeway, for tokens minted on a host whose clock
    differs: a token is accepted until ``exp`` plus the leeway, and refused when its ``iat`` or
    ``nbf`` is further in the future than the leeway.

    Verified access tokens are remembered (up to ``AUTH_ACCESS_TOKEN_CACHE_SIZE``, oldest
    dropped first), so a client's next request with the same token skips the signature and
    claim checks; a remembered token is still refused once ``exp`` plus the leeway has passed.
    Only verification is remembered: the session and the user are checked in the database on
    every request, so revocation stays immediate. Refresh tokens are single-use and never cached.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self._settings = settings
        self._leeway = timedelta(seconds=settings.clock_skew_s)
        self._verified_access: dict[str, TokenClaims] = {}
        # Parse the keys once: re-parsing a PEM key costs tens of milliseconds per token.
        algorithm = jwt.get_algorithm_by_name(settings.algorithm)
        try:
            self._signing_key: Any = algorithm.prepare_key(settings.secret_key)
            self._verification_key: Any = algorithm.prepare_key(settings.verification_key)
        except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
            message = f"Unusable key for AUTH_ALGORITHM={settings.algorithm}: {exc}"
            raise ConfigurationError(message) from exc
        # RS*/ES*: every token names its key (``kid``, the RFC 7638 thumbprint); the older
        # public keys of AUTH_VERIFICATION_KEYS still verify, for a rotation.
        self.jwks: list[dict[str, Any]] = []
        self._keys: dict[str, Any] = {}
        self._kid: str | None = None
        if settings.algorithm.startswith(ASYMMETRIC_PREFIXES):
            for index, pem in enumerate((settings.verification_key, *settings.verification_keys)):
                what = "AUTH_PUBLIC_KEY" if index == 0 else f"AUTH_VERIFICATION_KEYS[{index - 1}]"
                jwk = public_jwk(pem, settings.algorithm, what)
                if index == 0:
                    self._kid = jwk["kid"]
                if jwk["kid"] not in self._keys:
                    self._keys[jwk["kid"]] = (
                        self._verification_key if index == 0 else algorithm.prepare_key(pem)
                    )
                    self.jwks.append(jwk)

    def encode(
        self,
        *,
        user_id: UUID,
        session_id: UUID,
        jti: str,
        type: TokenType,
        now: datetime,
        expires_at: datetime | None = None,
        auth_time: datetime | None = None,
        amr: Sequence[str] = (),
    ) -> str:
        """A signed token; an access token needs ``auth_time`` and ``amr`` (the session's
        latest authentication)."""
        s = self._settings
        ttl_s = s.access_token_ttl_s if type == "access" else s.refresh_token_ttl_s
        exp = int(expires_at.timestamp()) if expires_at else int(now.timestamp()) + ttl_s
        payload = {
            "sub": str(user_id),
            "sid": str(session_id),
            "jti": jti,
            "type": type,
            "iat": int(now.timestamp()),
            "exp": exp,
            "iss": s.issuer,
            "aud": s.audience,
        }
        if type == "access":
            if auth_time is None or not amr:
                raise ValueError("An access token needs auth_time and amr.")
            payload["auth_time"] = int(auth_time.timestamp())
            payload["amr"] = list(amr)
        headers = {"kid": self._kid} if self._kid else None
        return jwt.encode(payload, self._signing_key, algorithm=s.algorithm, headers=headers)

    def issue_pair(
        self,
        *,
        user_id: UUID,
        session_id: UUID,
        refresh_jti: str,
        auth_time: datetime,
        amr: Sequence[str],
        refresh_expires_at: datetime | None = None,
    ) -> TokenPair:
        """A new access token (carrying the session's ``auth_time`` and ``amr``) and a refresh
        token with ``refresh_jti``, which ends ``refresh_expires_at`` (an existing session's
        end) or a full refresh lifetime from now."""
        now = datetime.now(timezone.utc)
        refresh_ends = refresh_expires_at or now + timedelta(
            seconds=self._settings.refresh_token_ttl_s
        )
        access = self.issue_access(
            user_id=user_id, session_id=session_id, auth_time=auth_time, amr=amr, now=now
        )
        refresh = self.encode(
            user_id=user_id,
            session_id=session_id,
            jti=refresh_jti,
            type="refresh",
            now=now,
            expires_at=refresh_ends,
        )
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            refresh_jti=refresh_jti,
            expires_in=self._settings.access_token_ttl_s,
            refresh_expires_at=refresh_ends,
        )

    def issue_access(
        self,
        *,
        user_id: UUID,
        session_id: UUID,
        auth_time: datetime,
        amr: Sequence[str],
        now: datetime | None = None,
    ) -> str:
        """A new access token for the session (a re-authentication issues one alone)."""
        return self.encode(
            user_id=user_id,
            session_id=session_id,
            jti=new_jti(),
            type="access",
            now=now or datetime.now(timezone.utc),
            auth_time=auth_time,
            amr=amr,
        )

    def decode(self, token: str, expected_type: TokenType) -> TokenClaims:
        """Verify signature, algorithm, ``iss``, ``aud``, times and type; raise InvalidToken."""
        if expected_type == "access":
            claims = self._verified_access.get(token)
            if claims is not None:
                if claims.expires_at + self._leeway > datetime.now(timezone.utc):
                    return claims
                del self._verified_access[token]
        claims = self._verify(token, expected_type)
        cache_size = self._settings.access_token_cache_size
        if expected_type == "access" and cache_size:
            if len(self._verified_access) >= cache_size:
                del self._verified_access[next(iter(self._verified_access))]
            self._verified_access[token] = claims
        return claims

    def _verify(self, token: str, expected_type: TokenType) -> TokenClaims:
        payload = self.verified_payload(token, expected_type)
        auth_time: datetime | None = None
        amr: tuple[str, ...] = ()
        if expected_type == "access":
            auth_time, amr = self._authentication(payload)
        return TokenClaims(
            user_id=UUID(str(payload["sub"])),
            session_id=UUID(str(payload["sid"])),
            jti=str(payload["jti"]),
            type=expected_type,
            expires_at=datetime.fromtimestamp(int(payload["exp"]), timezone.utc),
            auth_time=auth_time,
            amr=amr,
        )

    def verified_payload(self, token: str, expected_type: TokenType) -> dict[str, Any]:
        """Every claim of ``token`` once its signature, algorithm, ``kid``, ``iss``, ``aud``,
        times and type are checked (nothing remembered); InvalidToken otherwise."""
        s = self._settings
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise InvalidToken()
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                self._key_of(token),
                algorithms=[s.algorithm],
                audience=s.audience,
                issuer=s.issuer,
                # ``iat`` is checked below: PyJWT's own check depends on its version.
                options={"require": self._required(expected_type), "verify_iat": False},
                leeway=self._leeway,
            )
            if payload["type"] != expected_type or self._issued_in_the_future(payload["iat"]):
                raise InvalidToken()
            UUID(str(payload["sub"])), UUID(str(payload["sid"]))  # both ids, or ValueError
            datetime.fromtimestamp(int(payload["exp"]), timezone.utc)
            if expected_type == "access":
                self._authentication(payload)  # auth_time and amr are required, or ValueError
            return payload
        except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError, OSError):
            # OverflowError/OSError: an ``exp`` too far in the future for a datetime.
            raise InvalidToken() from None

    @staticmethod
    def _required(expected_type: TokenType) -> list[str]:
        if expected_type == "access":
            return [*REQUIRED_CLAIMS, *ACCESS_CLAIMS]
        return list(REQUIRED_CLAIMS)

    @staticmethod
    def _authentication(payload: dict[str, Any]) -> tuple[datetime, tuple[str, ...]]:
        """``auth_time`` (an integer) and ``amr`` (a non-empty list of strings), or
        ``ValueError``."""
        raw_time, raw_amr = payload["auth_time"], payload["amr"]
        if isinstance(raw_time, bool) or not isinstance(raw_time, int):
            raise ValueError("auth_time")
        if (
            not isinstance(raw_amr, list)
            or not raw_amr
            or not all(isinstance(m, str) for m in raw_amr)
        ):
            raise ValueError("amr")
        return datetime.fromtimestamp(raw_time, timezone.utc), tuple(raw_amr)

    def _key_of(self, token: str) -> Any:
        """The key that must have signed ``token``: the one its ``kid`` names (RS*/ES*; an
        unknown ``kid`` is refused), else the configured verification key."""
        if not self._keys:
            return self._verification_key
        kid = jwt.get_unverified_header(token).get("kid")
        if kid is None:  # issued before tokens named their key: the current key only
            return self._verification_key
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken()
        return key

    def _issued_in_the_future(self, iat: Any) -> bool:
        """``iat`` beyond now plus the leeway (or not a number: ``ValueError``/``TypeError``).

        PyJWT 2.6 and later 2.x versions check this too; earlier ones did not, and dropping the
        check by default is discussed for PyJWT 3 (jpadilla/pyjwt#939), so it is done here.
        """
        now = datetime.now(timezone.utc).timestamp()
        return int(iat) > now + self._leeway.total_seconds()
