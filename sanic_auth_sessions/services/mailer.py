"""Where the account's mail goes: reset tokens, verification and email-change tokens, and the
security notifications. Host apps plug in their own ``Mailer``.

A mailer has ``send_password_reset(email, token)`` and, for every other message,
``send_message(kind, email, token, data)`` (``kind`` is one of :data:`MESSAGE_KINDS`). A host
mailer written before ``send_message`` existed keeps working: :func:`deliver` skips the other
messages for it, and :func:`can_send_messages` lets the start say so once.

The words of a message come from :func:`render` (subject and text for each kind): a host mailer
that sends real mail can call it, or write its own templates from ``kind`` and ``data``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

MessageKind = Literal[
    "email_verification",
    "email_change_confirm",
    "email_change_requested",
    "new_device",
    "password_changed",
    "password_reset",
    "email_changed",
    "mfa_disabled",
]
MESSAGE_KINDS: tuple[str, ...] = get_args(MessageKind)

SUBJECTS: dict[str, str] = {
    "email_verification": "Verify your email address",
    "email_change_confirm": "Confirm your new email address",
    "email_change_requested": "A change of your email address was requested",
    "new_device": "New sign-in to your account",
    "password_changed": "Your password was changed",
    "password_reset": "Your password was reset",
    "email_changed": "Your email address was changed",
    "mfa_disabled": "Two-factor authentication was turned off",
}
TEXTS: dict[str, str] = {
    "email_verification": "Your verification token: {token}",
    "email_change_confirm": "To make this your account's address, confirm with: {token}",
    "email_change_requested": "Someone asked to change your account's address to {new_email}. "
    "If it was not you, change your password.",
    "new_device": "Your account was signed in from {device_name} ({ip_address}) at {time}. "
    "If it was not you, change your password and sign out the other sessions.",
    "password_changed": "Your password was changed. If it was not you, reset it now.",
    "password_reset": "Your password was reset and every session signed out.",
    "email_changed": "Your account's address was changed from {old_email} to {new_email}.",
    "mfa_disabled": "Two-factor authentication was turned off for your account.",
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "unknown"


def render(
    kind: str, email: str, token: str | None = None, data: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """(subject, text) of a message: the default template hook."""
    values = _Blank(data or {}, email=email, token=token or "")
    return SUBJECTS[kind], TEXTS[kind].format_map(values)


class Mailer(Protocol):
    async def send_password_reset(self, email: str, token: str) -> None: ...


class MessageMailer(Mailer, Protocol):
    async def send_message(
        self, kind: str, email: str, token: str | None, data: Mapping[str, Any]
    ) -> None: ...


def can_send_messages(mailer: Mailer) -> bool:
    """Whether ``mailer`` has ``send_message`` (a host mailer may predate it)."""
    return callable(getattr(mailer, "send_message", None))


async def deliver(
    mailer: Mailer,
    kind: MessageKind,
    email: str,
    *,
    token: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> bool:
    """Hand one message to ``mailer``; False (nothing sent) when it has no ``send_message``."""
    send = getattr(mailer, "send_message", None)
    if not callable(send):
        return False
    await send(kind, email, token, dict(data or {}))
    return True


class ConsoleMailer:
    """Development default: writes the mail to standard output instead of sending it.

    It never goes through logging, so tokens stay out of log pipelines."""

    async def send_password_reset(self, email: str, token: str) -> None:
        print(f"To: {email}\nSubject: Password reset\n\nYour reset token: {token}\n", flush=True)

    async def send_message(
        self, kind: str, email: str, token: str | None, data: Mapping[str, Any]
    ) -> None:
        subject, text = render(kind, email, token, data)
        print(f"To: {email}\nSubject: {subject}\n\n{text}\n", flush=True)


@dataclass
class SentResetMail:
    email: str
    token: str
    kind: str = "password_reset_token"
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class InMemoryMailer:
    """For tests: keeps every message in ``outbox`` (reset mails with ``kind``
    ``password_reset_token``)."""

    outbox: list[SentResetMail] = field(default_factory=list)

    async def send_password_reset(self, email: str, token: str) -> None:
        self.outbox.append(SentResetMail(email, token))

    async def send_message(
        self, kind: str, email: str, token: str | None, data: Mapping[str, Any]
    ) -> None:
        self.outbox.append(SentResetMail(email, token or "", kind, dict(data)))

    def messages(self, kind: str, email: str | None = None) -> list[SentResetMail]:
        """The messages of ``kind`` (to ``email``, when given), oldest first."""
        return [m for m in self.outbox if m.kind == kind and email in (None, m.email)]

    def last_token_for(self, email: str, kind: str = "password_reset_token") -> str | None:
        for message in reversed(self.outbox):
            if message.email == email and message.kind == kind:
                return message.token
        return None
