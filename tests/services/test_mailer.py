from __future__ import annotations

import pytest

from sanic_auth_sessions import ConsoleMailer, InMemoryMailer


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
