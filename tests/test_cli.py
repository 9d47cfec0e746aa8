"""``python -m sanic_auth_sessions create-superuser``, in process (the HTTP side of the same
command, against a running server, is in test_adversarial_http.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sanic_auth_sessions.cli import main

from .conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite://{tmp_path / 'cli.sqlite3'}"
    assert main(["migrate", "--database-url", url, "apply"]) == 0
    monkeypatch.setenv("AUTH_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("AUTH_SUPERUSER_PASSWORD", raising=False)
    return url


def rows(url: str) -> list[tuple[str, int, int, str]]:
    connection = sqlite3.connect(url.removeprefix("sqlite://"))
    try:
        return list(
            connection.execute(
                "SELECT email, is_superuser, is_active, security_stamp FROM auth_users"
            )
        )
    finally:
        connection.close()


def test_creates_then_promotes_and_reactivates(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_SUPERUSER_PASSWORD", STRONG_PASSWORD)
    assert main(["create-superuser", "--database-url", database, "--email", " Ops@X.io"]) == 0
    assert capsys.readouterr().out == "Created the superuser ops@x.io.\n"
    [(email, superuser, active, stamp)] = rows(database)
    assert (email, superuser, active) == ("ops@x.io", 1, 1)

    connection = sqlite3.connect(database.removeprefix("sqlite://"))
    with connection:
        connection.execute("UPDATE auth_users SET is_active = 0, is_superuser = 0")
    connection.close()
    # No password: an existing account keeps its own (and its security stamp).
    monkeypatch.delenv("AUTH_SUPERUSER_PASSWORD")
    assert main(["create-superuser", "--database-url", database, "--email", "ops@x.io"]) == 0
    assert capsys.readouterr().out == "Promoted and reactivated the superuser ops@x.io.\n"
    assert rows(database) == [("ops@x.io", 1, 1, stamp)]
    # With one, the password changes and the stamp with it.
    argv = ["create-superuser", "--database-url", database, "--email", "ops@x.io"]
    assert main([*argv, "--password", OTHER_STRONG_PASSWORD]) == 0
    assert rows(database)[0][3] != stamp


def test_refuses_clearly(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["create-superuser", "--database-url", database, "--email", "new@x.io"]
    assert main(argv) == 2
    assert "give a password" in capsys.readouterr().err
    assert main([*argv, "--password", "admin123"]) == 2
    assert "too short" in capsys.readouterr().err
    assert rows(database) == []


def test_needs_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_DATABASE_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(SystemExit, match="No database"):
        main(["create-superuser", "--email", "a@x.io"])


@pytest.mark.parametrize(
    "argv",
    [
        ["--database-url", "{url}", "migrate", "apply"],
        ["migrate", "--database-url", "{url}", "apply"],
        ["migrate", "apply", "--database-url", "{url}"],
    ],
    ids=["before-the-verb", "before-the-action", "after-the-action"],
)
def test_the_database_url_goes_anywhere(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path / 'anywhere.sqlite3'}"
    assert main([part.format(url=url) for part in argv]) == 0
    assert capsys.readouterr().out.startswith("Applied ")
    assert main(["migrate", "check", "--database-url", url]) == 0
    assert "up to date" in capsys.readouterr().out


def test_the_url_after_the_verb_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTH_MIGRATIONS_DATABASE_URL", f"sqlite://{tmp_path / 'env.sqlite3'}")
    given = tmp_path / "given.sqlite3"
    assert main(["migrate", "apply", "--database-url", f"sqlite://{given}"]) == 0
    assert given.exists()
    assert not (tmp_path / "env.sqlite3").exists()
