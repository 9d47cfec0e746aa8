from __future__ import annotations

import logging

import pytest

from sanic_auth_sessions import ConsoleMailer, InMemoryMailer


async def test_console_mailer_logs_the_token(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sanic_auth_sessions.mailer"):
        await ConsoleMailer().send_password_reset("ada@example.com", "tok-123")
    assert "ada@example.com" in caplog.text and "tok-123" in caplog.text


async def test_in_memory_mailer_keeps_the_outbox() -> None:
    mailer = InMemoryMailer()
    await mailer.send_password_reset("a@example.com", "one")
    await mailer.send_password_reset("b@example.com", "two")
    await mailer.send_password_reset("a@example.com", "three")
    assert mailer.last_token_for("a@example.com") == "three"
    assert mailer.last_token_for("c@example.com") is None
