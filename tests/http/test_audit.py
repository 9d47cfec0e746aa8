"""Security events: logged with user, session, IP and request id; passed to the hook."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from typing import Any

import pytest

from sanic_auth_sessions import AuditEvent, UserManager
from sanic_auth_sessions.core.audit import RequestIdFilter
from sanic_auth_sessions.core.logs import logging_config

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer


class AuditingManager(UserManager):
    events: list[AuditEvent] = []

    async def on_audit_event(self, event: AuditEvent) -> None:
        self.events.append(event)


@pytest.fixture
def audit_records() -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect()
    audit_logger = logging.getLogger("sanic_auth_sessions.audit")
    audit_logger.addHandler(handler)
    audit_logger.setLevel(logging.INFO)
    yield records
    audit_logger.removeHandler(handler)


async def test_security_events_reach_the_hook_and_the_log(
    make_app: Any, audit_records: list[logging.LogRecord]
) -> None:
    AuditingManager.events = []
    api: RunningApp = await make_app(manager_class=AuditingManager)
    await api.register("audit@example.com")
    tokens = await api.login("audit@example.com", **{"X-Request-ID": "req-login-1"})
    await api.client.post(
        api.url("/auth/login"), json={"email": "audit@example.com", "password": "wrong wrong 1"}
    )
    rotated = (
        await api.client.post(
            api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
        )
    ).json()
    await api.client.post(api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]})
    second = await api.login("audit@example.com")
    await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(second),
    )
    await api.client.post(api.url("/auth/logout-all"), headers=bearer(second))
    names = [event.name for event in AuditingManager.events]
    assert names == [
        "user.registered",
        "login.succeeded",
        "login.failed",
        "token.refreshed",
        "token.reuse_detected",
        "login.succeeded",
        "session.reauthenticated",  # the right current_password re-authenticated the session
        "password.changed",
        "session.logged_out_all",
    ]
    login = AuditingManager.events[1]
    assert login.request_id == "req-login-1"
    assert login.ip_address == "127.0.0.1"
    assert login.user_id is not None and login.session_id is not None
    assert rotated["refresh_token"]
    assert [record.event for record in audit_records] == names  # type: ignore[attr-defined]
    assert audit_records[1].request_id == "req-login-1"  # type: ignore[attr-defined]


async def test_request_id_is_echoed_or_generated(api: RunningApp) -> None:
    given = await api.client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    generated = await api.client.get("/health")
    assert len(generated.headers["x-request-id"]) == 32
    hostile = await api.client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["x-request-id"] != "x" * 500


def test_production_log_lines_are_json_with_the_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logging.config.dictConfig(logging_config(json_lines=True))
    try:
        logging.getLogger("sanic_auth_sessions.audit").info(
            "audit login.succeeded", extra={"event": "login.succeeded", "request_id": "r-1"}
        )
        line = capsys.readouterr().out.strip().splitlines()[-1]
        entry = json.loads(line)
        assert entry["event"] == "login.succeeded"
        assert entry["request_id"] == "r-1"
        assert entry["level"] == "INFO" and entry["logger"] == "sanic_auth_sessions.audit"
    finally:
        logging.config.dictConfig(logging_config(json_lines=False))
        root = logging.getLogger()
        for handler in list(root.handlers):
            if any(isinstance(f, RequestIdFilter) for f in handler.filters):
                root.removeHandler(handler)


def test_development_log_lines_are_text(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(logging_config(json_lines=False))
    try:
        logging.getLogger("sanic_auth_sessions").warning("hello there")
        line = capsys.readouterr().out.strip().splitlines()[-1]
        assert "WARNING sanic_auth_sessions [None] hello there" in line
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if any(isinstance(f, RequestIdFilter) for f in handler.filters):
                root.removeHandler(handler)


def test_the_run_wide_secret_scan_sees_every_record() -> None:
    from ..conftest import LOGGED

    before = len(LOGGED)
    logging.getLogger("anything.at.all").warning("scanned %s", "too")
    assert len(LOGGED) == before + 1 and "scanned too" in LOGGED[-1]
    # The package's own INFO records (audit events) too, whatever ran before.
    logging.getLogger("sanic_auth_sessions.audit").info("audit %s", "seen")
    assert "audit seen" in LOGGED[-1]


async def test_role_changes_and_admin_actions_are_audited(
    make_app: Any, audit_records: list[logging.LogRecord]
) -> None:
    AuditingManager.events = []
    api: RunningApp = await make_app(
        manager_class=AuditingManager,
        first_superuser_email="root@example.com",
        first_superuser_password=STRONG_PASSWORD,
    )
    owner = await api.user_with_tokens("owner@example.com")
    member = await api.register("member@example.com")
    org = (
        await api.client.post(
            api.url("/organizations"), json={"name": "Acme"}, headers=bearer(owner)
        )
    ).json()
    await api.client.post(
        api.url(f"/organizations/{org['id']}/members"),
        json={"email": "member@example.com", "role": "member"},
        headers=bearer(owner),
    )
    await api.client.patch(
        api.url(f"/organizations/{org['id']}/members/{member['id']}"),
        json={"role": "admin"},
        headers=bearer(owner),
    )
    root = await api.login("root@example.com")
    await api.client.post(api.url(f"/admin/users/{member['id']}/deactivate"), headers=bearer(root))
    created = await api.client.post(
        api.url("/admin/users"),
        json={"email": "made@example.com", "password": OTHER_STRONG_PASSWORD},
        headers=bearer(root),
    )
    assert created.status_code == 201, created.text
    events = {record.event: record for record in audit_records}  # type: ignore[attr-defined]
    assert {
        "organization.created",
        "organization.member_added",
        "organization.role_changed",
        "admin.user_deactivated",
        "user.deactivated",
    } <= set(events)
    changed = events["organization.role_changed"]
    assert (changed.data_old_role, changed.data_new_role) == ("member", "admin")  # type: ignore[attr-defined]
    assert events["admin.user_deactivated"].data_target_user_id == member["id"]  # type: ignore[attr-defined]
    # The organization events reach the manager's hook too, with the acting user.
    hooked = {event.name: event for event in AuditingManager.events}
    assert hooked["organization.role_changed"].user_id == owner["user"]["id"]
    assert hooked["admin.user_deactivated"].user_id == root["user"]["id"]
    assert hooked["admin.user_created"].user_id == root["user"]["id"]
    assert hooked["admin.user_created"].data["target_user_id"] == created.json()["id"]
