"""Stored security events, the two lists that read them, new-device detection and the
security notification mails, on every database."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest

from sanic_auth_sessions import InMemoryMailer
from sanic_auth_sessions.core.audit import (
    STORED_TYPES,
    USER_VISIBLE_TYPES,
    AuditEvent,
    new_event,
    stored_data,
    subject_and_actor,
)
from sanic_auth_sessions.core.config import AuthSettings, ConfigurationError
from sanic_auth_sessions.core.models import SecurityEvent, User
from sanic_auth_sessions.db.connection import connection
from sanic_auth_sessions.services import security_events

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import assert_error, session_id

EVENT_FIELDS = {
    "id",
    "type",
    "created_at",
    "ip_address",
    "user_agent",
    "device_name",
    "location_city",
    "location_country",
    "session_id",
    "data",
}
ADMIN_EVENT_FIELDS = EVENT_FIELDS | {"user_id", "user_email", "actor_id"}
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"


async def stored_types(user_id: str | None = None) -> list[str]:
    query = SecurityEvent.all() if user_id is None else SecurityEvent.filter(user_id=user_id)
    return [event.type for event in await query.order_by("created_at", "id")]


async def my_events(api: RunningApp, tokens: dict[str, Any], **params: Any) -> Any:
    return await api.client.get(
        api.url("/users/me/security-events"), params=params, headers=bearer(tokens)
    )


async def admin_events(api: RunningApp, tokens: dict[str, Any], **params: Any) -> Any:
    return await api.client.get(
        api.url("/admin/audit-events"), params=params, headers=bearer(tokens)
    )


async def superuser(api: RunningApp, email: str = "boss@example.com") -> dict[str, Any]:
    await api.register(email)
    await User.filter(email=email).update(is_superuser=True)
    return await api.login(email)


# --- storing --------------------------------------------------------------------------------


async def test_every_event_but_refresh_is_stored_with_its_request(api: RunningApp) -> None:
    user = await api.register("stored@example.com")
    tokens = await api.login("stored@example.com", **{"User-Agent": CHROME, "X-Device-Id": "d1"})
    await api.client.post(
        api.url("/auth/login"), json={"email": "stored@example.com", "password": "wrong pw 123"}
    )
    for _ in range(3):
        refreshed = await api.client.post(
            api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200
        tokens = {**tokens, **refreshed.json()}
    changed = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert changed.status_code == 200
    assert await stored_types(user["id"]) == [
        "user.registered",
        "login.succeeded",
        "login.failed",
        # The right current_password re-authenticated the session (admin-only, stored).
        "session.reauthenticated",
        "password.changed",
    ]
    assert await SecurityEvent.filter(type="token.refreshed").count() == 0
    login = await SecurityEvent.get(type="login.succeeded")
    assert login.data == {"method": "password", "mfa": False}
    assert str(login.user_id) == str(login.actor_id) == user["id"]
    assert str(login.session_id) == session_id(tokens)
    assert login.ip_address == "127.0.0.1"
    assert login.user_agent == CHROME
    assert login.device_name == "Chrome on macOS"
    assert login.device_id == "d1"
    failed = await SecurityEvent.get(type="login.failed")
    # The attempt was anonymous; the account it was about is known.
    assert str(failed.user_id) == user["id"] and failed.actor_id is None
    assert failed.data == {"email": "stored@example.com", "reason": "credentials"}


async def test_admin_events_are_about_the_target_and_acted_by_the_superuser(
    api: RunningApp,
) -> None:
    boss = await superuser(api)
    target = await api.register("target@example.com")
    target_tokens = await api.login("target@example.com")
    boss_id = (await api.client.get(api.url("/users/me"), headers=bearer(boss))).json()["id"]
    revoked = await api.client.delete(
        api.url(f"/admin/sessions/{session_id(target_tokens)}"), headers=bearer(boss)
    )
    assert revoked.status_code == 200
    updated = await api.client.patch(
        api.url(f"/admin/users/{target['id']}"),
        json={"first_name": "T", "password": OTHER_STRONG_PASSWORD},
        headers=bearer(boss),
    )
    assert updated.status_code == 200
    for name in ("admin.session_revoked", "admin.user_updated"):
        event = await SecurityEvent.get(type=name)
        assert (str(event.user_id), str(event.actor_id)) == (target["id"], boss_id), name
    assert (await SecurityEvent.get(type="admin.user_updated")).data == {
        "target_user_id": target["id"],
        "fields": ["first_name", "password"],
    }


def test_data_never_keeps_a_secret_and_actors_follow_the_rules() -> None:
    assert stored_data(
        {
            "password": "x",
            "new_password": "x",
            "refresh_token": "x",
            "token_hash": "x",
            "code": "1",
            "recovery_code": "x",
            "secret": "x",
            "method": "password",
            "remaining": 3,
        }
    ) == {"method": "password", "remaining": 3}
    uid, other = str(uuid4()), str(uuid4())

    def event(name: str, user_id: str | None = uid, **data: Any) -> AuditEvent:
        return new_event(name, user_id=user_id, **data)

    assert subject_and_actor(event("login.succeeded")) == (uid, uid)
    assert subject_and_actor(event("login.failed")) == (uid, None)
    assert subject_and_actor(event("user.superuser_created")) == (uid, None)
    assert subject_and_actor(event("admin.user_deleted", target_user_id=other)) == (other, uid)
    assert subject_and_actor(event("admin.bulk_action")) == (None, uid)
    assert subject_and_actor(event("organization.member_added", member_id=other)) == (other, uid)
    assert set(USER_VISIBLE_TYPES) < set(STORED_TYPES)
    assert "token.refreshed" not in STORED_TYPES


async def test_a_failure_to_store_is_logged_not_answered(
    api: RunningApp, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    await api.register("nostore@example.com")

    async def broken(event: AuditEvent) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(security_events, "store", broken)
    with caplog.at_level(logging.ERROR, logger="sanic_auth_sessions"):
        tokens = await api.login("nostore@example.com")
    assert tokens["access_token"]
    assert any("Storing the login.succeeded event failed" in r.message for r in caplog.records)


async def test_a_lock_is_shown_to_the_account_owner(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=2)
    await api.register("locked@example.com")
    await api.login("locked@example.com")
    for _ in range(3):
        await api.client.post(
            api.url("/auth/login"),
            json={"email": "locked@example.com", "password": "wrong pw 123"},
        )
    await api.client.post(
        api.url("/auth/login"), json={"email": "ghost@example.com", "password": "wrong pw 123"}
    )
    [locked] = await SecurityEvent.filter(type="account.locked")
    user = await User.get(email="locked@example.com")
    assert (locked.user_id, locked.actor_id) == (user.id, None)
    assert locked.data == {"email": "locked@example.com"}


# --- GET /users/me/security-events -----------------------------------------------------------


async def test_my_events_newest_first_only_mine_and_user_visible(api: RunningApp) -> None:
    await api.register("mine@example.com")
    tokens = await api.login("mine@example.com", **{"User-Agent": FIREFOX})
    await api.client.post(
        api.url("/auth/login"), json={"email": "mine@example.com", "password": "wrong pw 123"}
    )
    await api.user_with_tokens("someone@example.com")
    response = await my_events(api, tokens)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [event["type"] for event in body["data"]] == ["login.failed", "login.succeeded"]
    assert all(set(event) == EVENT_FIELDS for event in body["data"])
    login = body["data"][1]
    assert login["data"] == {"method": "password", "mfa": False}
    assert login["device_name"] == "Firefox on Linux"
    assert login["session_id"] == session_id(tokens)
    assert login["ip_address"] == "127.0.0.1"
    assert datetime.fromisoformat(login["created_at"]).utcoffset() == timedelta(0)
    assert body["pagination"] == {
        "total": 2,
        "page": 1,
        "page_size": 20,
        "total_pages": 1,
        "has_next": False,
        "has_prev": False,
        "next_cursor": None,
        "total_is_estimate": False,
    }
    only = await my_events(api, tokens, type="login.succeeded, login.failed,login.failed")
    assert [event["type"] for event in only.json()["data"]] == ["login.failed", "login.succeeded"]
    succeeded = await my_events(api, tokens, type="login.succeeded")
    assert [event["type"] for event in succeeded.json()["data"]] == ["login.succeeded"]


@pytest.mark.parametrize(
    "kind", ["user.registered", "token.refreshed", "nonsense", ",", "login.succeeded,admin.x"]
)
async def test_my_events_refuse_a_type_that_is_not_user_visible(api: RunningApp, kind: str) -> None:
    tokens = await api.user_with_tokens("types@example.com")
    body = assert_error(await my_events(api, tokens, type=kind), 422, "VALIDATION_ERROR")
    assert [error["field"] for error in body["errors"]] == ["type"]


async def test_my_events_page_with_signed_cursors(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("pages@example.com")
    for _ in range(4):
        await api.login("pages@example.com")
    first = (await my_events(api, tokens, limit=2)).json()
    assert first["pagination"]["total"] == 5 and first["pagination"]["has_next"]
    seen = [event["id"] for event in first["data"]]
    cursor = first["pagination"]["next_cursor"]
    while cursor:
        page = (await my_events(api, tokens, limit=2, cursor=cursor)).json()
        seen += [event["id"] for event in page["data"]]
        cursor = page["pagination"]["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    everything = (await my_events(api, tokens, limit=100)).json()["data"]
    assert [event["id"] for event in everything] == seen
    times = [event["created_at"] for event in everything]
    assert times == sorted(times, reverse=True)
    altered = first["pagination"]["next_cursor"][:-2] + "xx"
    assert_error(await my_events(api, tokens, cursor=altered), 422, "INVALID_CURSOR")
    assert_error(await my_events(api, tokens, limit=101), 422, "VALIDATION_ERROR")


async def test_a_cursor_of_one_events_list_is_refused_by_the_other(api: RunningApp) -> None:
    boss = await superuser(api)
    for _ in range(2):
        await api.login("boss@example.com")
    mine = (await my_events(api, boss, limit=1)).json()["pagination"]["next_cursor"]
    everyone = (await admin_events(api, boss, limit=1)).json()["pagination"]["next_cursor"]
    assert_error(await admin_events(api, boss, cursor=mine), 422, "INVALID_CURSOR")
    assert_error(await my_events(api, boss, cursor=everyone), 422, "INVALID_CURSOR")


async def test_my_events_need_a_token(api: RunningApp) -> None:
    assert_error(await api.client.get(api.url("/users/me/security-events")), 401)


async def test_my_events_are_rate_limited_per_user(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, rate_limit_security_events="2/minute")
    tokens = await api.user_with_tokens("limited@example.com")
    other = await api.user_with_tokens("unlimited@example.com")
    for _ in range(2):
        assert (await my_events(api, tokens)).status_code == 200
    refused = await my_events(api, tokens)
    assert_error(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) > 0
    assert (await my_events(api, other)).status_code == 200  # per user, not per IP


# --- GET /admin/audit-events -----------------------------------------------------------------


async def test_admin_events_list_everything_with_the_account_and_actor(api: RunningApp) -> None:
    boss = await superuser(api)
    boss_id = (await api.client.get(api.url("/users/me"), headers=bearer(boss))).json()["id"]
    gone = await api.register("gone@example.com")
    assert (
        await api.client.delete(api.url(f"/admin/users/{gone['id']}"), headers=bearer(boss))
    ).status_code == 200
    await api.client.post(
        api.url("/auth/login"), json={"email": "nobody@example.com", "password": "wrong pw 123"}
    )
    response = await admin_events(api, boss)
    assert response.status_code == 200, response.text
    rows = response.json()["data"]
    assert all(set(row) == ADMIN_EVENT_FIELDS for row in rows)
    assert [row["type"] for row in rows] == [
        "login.failed",
        "admin.user_deleted",
        "user.registered",
        "login.succeeded",
        "user.registered",
    ]
    anonymous, deleted, registered_gone, login, _ = rows
    assert (anonymous["user_id"], anonymous["actor_id"], anonymous["user_email"]) == (
        None,
        None,
        None,
    )
    # Events outlive their account: its email is then null.
    assert (deleted["user_id"], deleted["actor_id"]) == (gone["id"], boss_id)
    assert deleted["user_email"] is None and registered_gone["user_email"] is None
    assert (login["user_id"], login["actor_id"], login["user_email"]) == (
        boss_id,
        boss_id,
        "boss@example.com",
    )
    # user_id matches the event's account or its actor.
    about_gone = (await admin_events(api, boss, user_id=gone["id"])).json()["data"]
    assert [row["type"] for row in about_gone] == ["admin.user_deleted", "user.registered"]
    by_boss = (await admin_events(api, boss, user_id=boss_id)).json()["data"]
    assert [row["type"] for row in by_boss] == [
        "admin.user_deleted",
        "login.succeeded",
        "user.registered",
    ]
    admin_only = (await admin_events(api, boss, type="user.registered,admin.user_deleted")).json()
    assert [row["type"] for row in admin_only["data"]] == [
        "admin.user_deleted",
        "user.registered",
        "user.registered",
    ]
    assert_error(await admin_events(api, boss, type="token.refreshed"), 422)
    assert_error(await admin_events(api, boss, user_id="not-a-uuid"), 422)


async def test_admin_events_by_time(api: RunningApp) -> None:
    boss = await superuser(api)
    now = datetime.now(timezone.utc)
    await SecurityEvent.bulk_create(
        [
            SecurityEvent(type="login.failed", created_at=now - timedelta(days=days), data={})
            for days in (3, 2, 1)
        ]
    )
    exactly_two_days = (await SecurityEvent.filter(type="login.failed").order_by("created_at"))[1]

    async def types_between(**params: Any) -> list[str]:
        response = await admin_events(api, boss, type="login.failed", **params)
        assert response.status_code == 200, response.text
        return [row["created_at"] for row in response.json()["data"]]

    two = exactly_two_days.created_at
    assert len(await types_between(since=two.isoformat())) == 2  # inclusive
    assert len(await types_between(until=two.isoformat())) == 1  # exclusive
    window = await types_between(
        since=(two - timedelta(hours=1)).isoformat(), until=(two + timedelta(hours=1)).isoformat()
    )
    assert [datetime.fromisoformat(value) for value in window] == [two]
    # Another offset names the same instant; "Z" is UTC.
    in_paris = two.astimezone(timezone(timedelta(hours=1))).isoformat()
    assert len(await types_between(since=in_paris)) == 2
    assert len(await types_between(since=two.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))) == 2
    for bad in ("2026-01-01T00:00:00", "yesterday", "1700000000", "2026-13-01T00:00:00Z"):
        body = assert_error(await admin_events(api, boss, since=bad), 422, "VALIDATION_ERROR")
        assert [error["field"] for error in body["errors"]] == ["since"], bad
    body = assert_error(
        await admin_events(api, boss, since=two.isoformat(), until=two.isoformat()), 422
    )
    assert [error["field"] for error in body["errors"]] == ["since"]


async def test_admin_events_are_for_superusers_only(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("plain@example.com")
    assert_error(await api.client.get(api.url("/admin/audit-events")), 401)
    assert_error(await admin_events(api, tokens), 403)


# --- new devices and notifications -------------------------------------------------------


async def test_a_new_device_is_reported_once(api: RunningApp) -> None:
    await api.register("devices@example.com")
    phone = {"X-Device-Id": "phone-1", "User-Agent": CHROME}
    await api.login("devices@example.com", **phone)  # the first login: nothing to compare
    await api.login("devices@example.com", **phone)
    await api.settled()
    assert api.mailer.messages("new_device") == []
    laptop = {"X-Device-Id": "laptop-1", "User-Agent": CHROME}
    tokens = await api.login("devices@example.com", **laptop)
    await api.login("devices@example.com", **laptop)
    await api.login("devices@example.com", **phone)
    await api.settled()
    [mail] = api.mailer.messages("new_device")
    assert mail.email == "devices@example.com"
    assert mail.data["device_name"] == "Chrome on macOS"
    assert mail.data["ip_address"] == "127.0.0.1"
    assert datetime.fromisoformat(mail.data["time"]) > datetime.now(timezone.utc) - timedelta(
        minutes=1
    )
    [event] = await SecurityEvent.filter(type="login.new_device")
    assert str(event.session_id) == session_id(tokens)
    listed = (await my_events(api, tokens, type="login.new_device")).json()["data"]
    assert [row["id"] for row in listed] == [str(event.id)]


async def test_without_a_device_id_the_name_and_ip_identify_the_device(api: RunningApp) -> None:
    await api.register("noid@example.com")
    await api.login("noid@example.com", **{"User-Agent": CHROME})
    await api.login("noid@example.com", **{"User-Agent": CHROME})
    await api.settled()
    assert api.mailer.messages("new_device") == []
    await api.login("noid@example.com", **{"User-Agent": FIREFOX})
    await api.settled()
    [mail] = api.mailer.messages("new_device")
    assert mail.data["device_name"] == "Firefox on Linux"


async def test_stored_logins_count_when_the_sessions_are_gone(api: RunningApp) -> None:
    await api.register("history@example.com")
    await api.login("history@example.com", **{"X-Device-Id": "old-phone"})
    user = await User.get(email="history@example.com")
    await user.sessions.all().delete()  # e.g. cleaned up: the stored login.succeeded remains
    await api.login("history@example.com", **{"X-Device-Id": "old-phone"})
    await api.settled()
    assert api.mailer.messages("new_device") == []
    await SecurityEvent.filter(user_id=user.id).delete()
    await api.login("history@example.com", **{"X-Device-Id": "new-phone"})  # a session remains
    await api.settled()
    assert len(api.mailer.messages("new_device")) == 1


async def notification_kinds(api: RunningApp) -> list[str]:
    """Register, log in from two devices, change the password, reset it: the mails sent."""
    await api.register("notify@example.com")
    await api.login("notify@example.com", **{"X-Device-Id": "one"})
    tokens = await api.login("notify@example.com", **{"X-Device-Id": "two"})
    changed = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert changed.status_code == 200
    token = await api.request_reset("notify@example.com")
    confirmed = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": STRONG_PASSWORD + " again"},
    )
    assert confirmed.status_code == 200
    await api.settled()
    assert all(m.email == "notify@example.com" for m in api.mailer.outbox)
    return [m.kind for m in api.mailer.outbox if m.kind != "password_reset_token"]


async def test_notifications_are_sent_by_default(api: RunningApp) -> None:
    assert await notification_kinds(api) == ["new_device", "password_changed", "password_reset"]


@pytest.mark.parametrize(
    ("setting", "sent"),
    [
        ("", []),
        ("password_changed", ["password_changed"]),
        ("new_device,password_reset", ["new_device", "password_reset"]),
    ],
)
async def test_notifications_follow_the_setting(
    make_app: Any, setting: str, sent: list[str]
) -> None:
    api: RunningApp = await make_app(security_notifications=setting)
    assert await notification_kinds(api) == sent
    # The events are stored whatever is mailed.
    assert await SecurityEvent.filter(type="login.new_device").count() == 1


class BrokenMailer(InMemoryMailer):
    async def send_message(self, kind: str, email: str, token: str | None, data: Any) -> None:
        raise ConnectionError("the mail server is down")


async def test_a_mailer_failure_is_logged_never_answered(
    make_app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    api: RunningApp = await make_app(mailer=BrokenMailer())
    tokens = await api.user_with_tokens("broken@example.com")
    with caplog.at_level(logging.ERROR, logger="sanic_auth_sessions"):
        changed = await api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
        await api.settled()
    assert changed.status_code == 200
    [record] = [r for r in caplog.records if "password_changed notification" in r.message]
    assert record.levelno == logging.ERROR


def test_the_notification_setting_is_checked_at_start() -> None:
    assert AuthSettings.from_defaults(environment="test").security_notifications == (
        "new_device",
        "password_changed",
        "password_reset",
        "email_changed",
        "mfa_disabled",
    )
    assert AuthSettings.from_defaults(security_notifications=" ", environment="test") is not None
    with pytest.raises(ConfigurationError, match=r"AUTH_SECURITY_NOTIFICATIONS .*login_alert"):
        AuthSettings.from_defaults(
            environment="test", security_notifications="new_device,login_alert"
        )
    with pytest.raises(ConfigurationError, match="AUTH_AUDIT_RETENTION_S must be positive"):
        AuthSettings.from_defaults(environment="test", audit_retention_s=0)


# --- the hot path -----------------------------------------------------------------------------


async def test_me_and_refresh_write_no_event_and_me_runs_one_query(
    api: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    tokens = await api.user_with_tokens("hot@example.com")
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code == 200
    db = connection()
    statements: list[str] = []
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
        original = getattr(db, name)

        def counting(sql: str, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            statements.append(sql)
            return _original(sql, *args, **kwargs)

        monkeypatch.setattr(db, name, counting)
    for _ in range(5):
        me = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
        assert me.status_code == 200
    assert len(statements) == 5, statements  # the session JOIN user, nothing else
    statements.clear()
    refreshed = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert not any("auth_security_events" in sql for sql in statements), statements
    monkeypatch.undo()
    assert await SecurityEvent.filter(type="token.refreshed").count() == 0
    assert UUID(str((await SecurityEvent.get(type="login.succeeded")).id))
