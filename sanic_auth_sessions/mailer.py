"""Where password-reset tokens go. Host apps plug in their own ``Mailer``."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger("sanic_auth_sessions.mailer")


class Mailer(Protocol):
    async def send_password_reset(self, email: str, token: str) -> None: ...


class ConsoleMailer:
    """Development default: prints the reset token to the log instead of sending mail."""

    async def send_password_reset(self, email: str, token: str) -> None:
        logger.warning("Password reset requested for %s; reset token: %s", email, token)


@dataclass
class SentResetMail:
    email: str
    token: str


@dataclass
class InMemoryMailer:
    """For tests: keeps every message in ``outbox``."""

    outbox: list[SentResetMail] = field(default_factory=list)

    async def send_password_reset(self, email: str, token: str) -> None:
        self.outbox.append(SentResetMail(email, token))

    def last_token_for(self, email: str) -> str | None:
        for message in reversed(self.outbox):
            if message.email == email:
                return message.token
        return None
