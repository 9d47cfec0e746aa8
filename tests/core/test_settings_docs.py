"""The settings tables in docs/configuration.md are generated from AuthSettings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sanic_auth_sessions.core import settings_docs
from sanic_auth_sessions.core.config import AuthSettings, config_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_configuration_page_matches_the_model() -> None:
    page = settings_docs.PAGE.read_text(encoding="utf-8")
    assert settings_docs.replace_block(page, settings_docs.render()) == page, (
        "docs/configuration.md is out of date: run python -m sanic_auth_sessions.core.settings_docs"
    )


def test_every_setting_is_described_in_a_section() -> None:
    block = settings_docs.render()
    for name, field in AuthSettings.model_fields.items():
        assert field.description, name
        assert settings_docs.section_of(field), name
        assert block.count(f"| `{config_key(name)}` |") == 1, name


def test_the_readme_names_only_settings_that_exist() -> None:
    keys = set(re.findall(r"`(AUTH_[A-Z_]+)`", (ROOT / "README.md").read_text(encoding="utf-8")))
    known = {config_key(name) for name in AuthSettings.model_fields}
    assert keys and keys <= known, keys - known


def test_defaults_and_rules_as_shown() -> None:
    fields = AuthSettings.model_fields
    shown = {name: settings_docs.shown_default(name, fields[name]) for name in fields}
    assert shown["access_token_ttl_s"] == "`900` (15 min)"
    assert shown["session_audit_window_s"] == "`2592000` (30 days)"
    assert shown["cleanup_interval_s"] == "`3600` (1 h)"
    assert shown["clock_skew_s"] == "`10`"
    assert shown["registration_enabled"] == "`true`"
    assert shown["database_url"] == "unset"
    assert shown["cors_origins"] == "none"
    assert shown["hashing_threads"] == "CPU count"
    assert settings_docs.rules_of(fields["bcrypt_rounds"]) == "From 4 to 31."
    assert settings_docs.rules_of(fields["cleanup_batch_size"]) == "At least 1."
    assert settings_docs.rules_of(fields["access_token_ttl_s"]) == "Must be positive."
    assert settings_docs.rules_of(fields["csp_mode"]) == "One of `strict`, `relaxed`, `disabled`."
    assert settings_docs.rules_of(fields["issuer"]) == ""


def test_the_command_checks_and_rewrites_a_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(
        f"# Title\n\n{settings_docs.START}\nold\n{settings_docs.END}\n\nAfter.\n", encoding="utf-8"
    )
    assert settings_docs.main([str(page), "--check"]) == 1
    assert "outdated" in capsys.readouterr().out
    assert settings_docs.main([str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n" + settings_docs.START)
    assert text.endswith(settings_docs.END + "\n\nAfter.\n")
    assert "| `AUTH_SECRET_KEY` | unset |" in text
    assert settings_docs.main([str(page), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out.splitlines()[-1]


def test_a_page_without_markers_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    page.write_text("# No markers\n", encoding="utf-8")
    with pytest.raises(ValueError, match="markers"):
        settings_docs.main([str(page)])
