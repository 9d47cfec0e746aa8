from __future__ import annotations

import logging

import pytest

from sanic_auth_sessions import AuthSessions, ConsoleMailer, InMemoryMailer
from sanic_auth_sessions.core.config import AuthSettings
from sanic_auth_sessions.services.mailer import MESSAGE_KINDS, can_send_messages, deliver, render


async def test_console_mailer_prints_the_mail(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleMailer().send_password_reset("ada@example.com", "tok-123")
    out = capsys.readouterr().out
    assert "To: ada@example.com" in out and "tok-123" in out


async def test_in_memory_mailer_keeps_the_outbox() -> None:
    mailer = InMemoryMailer()
    await mailer.send_password_reset("a@example.com", "one")
    await mailer.send_password_reset("b@example.com", "two")
    await mailer.send_password_reset("a@example.com", "three")
    assert mailer.last_token_for("a@example.com") == "three"
    assert mailer.last_token_for("c@example.com") is None


async def test_console_mailer_renders_every_kind(capsys: pytest.CaptureFixture[str]) -> None:
    for kind in MESSAGE_KINDS:
        await ConsoleMailer().send_message(
            kind, "ada@example.com", "tok-9", {"new_email": "n@x.io"}
        )
        out = capsys.readouterr().out
        assert (
            out.startswith("To: ada@example.com\nSubject: ") and "unknown" not in out.split("\n")[1]
        )
    subject, text = render(
        "email_change_requested", "ada@example.com", None, {"new_email": "n@x.io"}
    )
    assert subject and "n@x.io" in text
    # A value the template names but the data lacks reads "unknown", never a KeyError.
    assert "unknown" in render("new_device", "ada@example.com")[1]


async def test_in_memory_mailer_records_messages_by_kind() -> None:
    mailer = InMemoryMailer()
    assert await deliver(mailer, "email_verification", "a@example.com", token="v1")
    assert await deliver(mailer, "new_device", "a@example.com", data={"device_name": "Phone"})
    await mailer.send_password_reset("a@example.com", "r1")
    assert mailer.last_token_for("a@example.com") == "r1"
    assert mailer.last_token_for("a@example.com", "email_verification") == "v1"
    [notice] = mailer.messages("new_device", "a@example.com")
    assert notice.data == {"device_name": "Phone"} and notice.token == ""
    assert mailer.messages("new_device", "b@example.com") == []


class ResetOnlyMailer:
    """A host mailer written before ``send_message`` existed."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_password_reset(self, email: str, token: str) -> None:
        self.sent.append(token)


async def test_a_mailer_without_send_message_keeps_working() -> None:
    mailer = ResetOnlyMailer()
    assert not can_send_messages(mailer) and can_send_messages(InMemoryMailer())
    assert await deliver(mailer, "password_changed", "a@example.com") is False
    assert mailer.sent == []


def test_the_start_says_once_that_such_a_mailer_misses_the_new_mails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = AuthSettings.from_defaults(environment="test")
    with caplog.at_level(logging.WARNING):
        AuthSessions(mailer=ResetOnlyMailer())._notices(settings)
        AuthSessions(mailer=InMemoryMailer())._notices(settings)
    warnings = [r.getMessage() for r in caplog.records if "send_message" in r.getMessage()]
    assert len(warnings) == 1 and "ResetOnlyMailer" in warnings[0]
