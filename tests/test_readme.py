"""The README's snippets, run verbatim as a newcomer would: each app in "Mount it in your app"
is saved as ``my_app.py`` and served with ``sanic my_app:app``; then register, log in, call
the protected route."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import STRONG_PASSWORD
from .example_process import ROOT, example_app
from .serving import loopback_sync_client

README = (ROOT / "README.md").read_text(encoding="utf-8")


def snippets(section: str) -> list[str]:
    start = README.index(f"## {section}")
    end = README.index("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", README[start:end], flags=re.S)


APPS = [code for code in snippets("Mount it in your app") if "Sanic(" in code]


def test_the_section_has_both_set_ups() -> None:
    assert len(APPS) == 2
    assert any("AUTH_DATABASE_URL" in code for code in APPS)
    assert any("register_tortoise(" in code for code in APPS)


@pytest.mark.parametrize("code", APPS, ids=["extension-owns-tortoise", "host-owns-tortoise"])
def test_a_snippet_runs_verbatim(tmp_path: Path, code: str) -> None:
    (tmp_path / "my_app.py").write_text(code, encoding="utf-8")
    # The client is closed before the server stops: an idle keep-alive connection at Ctrl-C
    # costs Sanic's manager a 10 s wait for the worker.
    with (
        example_app(tmp_path, "-m", "sanic", "my_app:app") as base_url,
        loopback_sync_client(base_url) as client,
    ):
        user = {"email": "ada@example.com", "password": STRONG_PASSWORD}
        assert client.post("/api/v1/auth/register", json=user).status_code == 201
        login = client.post("/api/v1/auth/login", json=user)
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        if "/api/v1/hello" in code:
            hello = client.get("/api/v1/hello", headers={"Authorization": f"Bearer {token}"})
            assert hello.json() == {"hello": "ada@example.com"}
        assert client.get("/api/v1/users/me").status_code == 401
    assert (tmp_path / "my_app.sqlite3").exists()
