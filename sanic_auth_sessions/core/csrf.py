"""CSRF tokens for the cookie transport: ``<random>.<HMAC(session id, random)>``.

The token is readable by the page (its cookie has no ``HttpOnly``) and sent back as the
``X-CSRF-Token`` header (double submit). The HMAC binds it to one session, so a token from
another session, or one made up by a sibling subdomain that can write cookies, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from uuid import UUID

RANDOM_BYTES = 32
MAX_TOKEN_CHARS = 200


class CsrfTokens:
    """Make and check the CSRF tokens of sessions, with a key derived from the secret key."""

    def __init__(self, secret_key: str) -> None:
        # A key of its own: a CSRF token can never be mistaken for any other HMAC we make.
        self._key = hashlib.sha256(b"sanic-auth-sessions csrf\x00" + secret_key.encode()).digest()

    def _mac(self, session_id: UUID, nonce: str) -> str:
        digest = hmac.new(self._key, f"{session_id}.{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, session_id: UUID) -> str:
        """A new token for ``session_id``; each token response gets a new one."""
        nonce = secrets.token_urlsafe(RANDOM_BYTES)
        return f"{nonce}.{self._mac(session_id, nonce)}"

    def is_valid(self, session_id: UUID, token: str) -> bool:
        """Whether ``token`` was made by :meth:`issue` for ``session_id`` (constant time)."""
        if len(token) > MAX_TOKEN_CHARS:
            return False
        nonce, dot, mac = token.partition(".")
        if not dot or not nonce or not mac:
            return False
        return hmac.compare_digest(mac, self._mac(session_id, nonce))
