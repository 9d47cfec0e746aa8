"""Where password-reset tokens go. Host apps plug in their own ``Mailer``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class Mailer(Protocol):
    async def send_password_reset(self, email: str, token: str) -> None: ...


class ConsoleMailer:
    """Development default: writes the mail to standard output instead of sending it.

    It never goes through logging, so reset tokens stay out of log pipelines."""

    async def send_password_reset(self, email: str, token: str) -> None:
        print(f"To: {email}\nSubject: Password reset\n\nYour reset token: {token}\n", flush=True)


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
