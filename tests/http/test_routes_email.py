"""Email verification (``/auth/verify-email/*``) and email change (``POST /users/me/email``,
``/auth/email-change/confirm``): tokens, their lifetimes and deaths, the login rule, the
admin's side, the mails and the limits."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from typing import Any

import pytest

from sanic_auth_sessions import AuditEvent, InMemoryMailer, UserManager
from sanic_auth_sessions.core.models import EmailToken, User, UserSession
from sanic_auth_sessions.services.manager import utcnow

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import ROOT_EMAIL, assert_error, until
from ..redis_server import captured_errors

VERIFY_REQUEST = "/auth/verify-email/request"
VERIFY_CONFIRM = "/auth/verify-email/confirm"
CHANGE_REQUEST = "/users/me/email"
CHANGE_CONFIRM = "/auth/email-change/confirm"


async def request_verification(api: RunningApp, email: str) -> str | None:
    """Ask for a verification mail for ``email``; the token mailed, if any."""
    response = await api.client.post(api.url(VERIFY_REQUEST), json={"email": email})
    assert response.status_code == 200, response.text
    await api.settled()
    return api.mailer.last_token_for(email.strip().lower(), "email_verification")


async def confirm_verification(api: RunningApp, token: str | None) -> Any:
    return await api.client.post(api.url(VERIFY_CONFIRM), json={"token": token})


async def request_change(
    api: RunningApp, tokens: dict[str, Any], new_email: str, password: str = STRONG_PASSWORD
) -> Any:
    return await api.client.post(
        api.url(CHANGE_REQUEST),
        json={"new_email": new_email, "current_password": password},
        headers=bearer(tokens),
    )


async def change_token(api: RunningApp, tokens: dict[str, Any], new_email: str) -> str:
    """Request a change to ``new_email``; the token mailed there."""
    response = await request_change(api, tokens, new_email)
    assert response.status_code == 202, response.text
    await api.settled()
    token = api.mailer.last_token_for(new_email, "email_change_confirm")
    assert token is not None
    return token


async def confirm_change(api: RunningApp, token: str) -> Any:
    return await api.client.post(api.url(CHANGE_CONFIRM), json={"token": token})


async def me(api: RunningApp, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- verification ------------------------------------------------------------------------


async def test_verification_flow_marks_the_account_verified_once(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("vera@example.com")
    assert (await me(api, tokens))["is_verified"] is False
    assert not api.mailer.messages("email_verification")  # none on register by default
    token = await request_verification(api, " VERA@example.com ")
    assert token is not None and len(token) >= 43
    stored = await EmailToken.get(user_id=tokens["user"]["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash

    response = await confirm_verification(api, token)
    assert response.status_code == 200, response.text
    assert response.json()["success"] is True
    assert "access_token" not in response.json()  # it does not log in
    assert (await me(api, tokens))["is_verified"] is True
    body = assert_error(await confirm_verification(api, token), 400, "VERIFICATION_TOKEN_INVALID")
    assert body["errors"][0]["field"] == "token"
    # A verified account gets no more tokens.
    assert await request_verification(api, "vera@example.com") == token
    assert len(api.mailer.messages("email_verification")) == 1


async def test_verification_request_answers_alike_for_every_address(api: RunningApp) -> None:
    await api.register("plain@example.com")
    await api.register("gone@example.com")
    await User.filter(email="gone@example.com").update(is_active=False)
    await api.register("done@example.com")
    await User.filter(email="done@example.com").update(is_verified=True)
    answers = []
    for email in ("plain@example.com", "gone@example.com", "done@example.com", "no@example.com"):
        response = await api.client.post(api.url(VERIFY_REQUEST), json={"email": email})
        answers.append((response.status_code, response.json()))
    assert all(answer == answers[0] for answer in answers), answers
    assert answers[0][0] == 200
    await api.settled()
    assert [m.email for m in api.mailer.messages("email_verification")] == ["plain@example.com"]
    for body in ({"email": "not an address"}, {}, {"email": None}):
        response = await api.client.post(api.url(VERIFY_REQUEST), json=body)
        assert assert_error(response, 422)["errors"][0]["field"] == "email"


async def test_unknown_expired_and_malformed_verification_tokens(api: RunningApp) -> None:
    await api.register("exp@example.com")
    token = await request_verification(api, "exp@example.com")
    await EmailToken.all().update(expires_at=utcnow() - timedelta(seconds=1))
    for value in (token, "x" * 43, "unknown"):
        assert_error(await confirm_verification(api, value), 400, "VERIFICATION_TOKEN_INVALID")
    assert_error(await confirm_verification(api, ""), 422)
    assert_error(await api.client.post(api.url(VERIFY_CONFIRM), json={}), 422)
    assert not (await User.get(email="exp@example.com")).is_verified


async def test_one_verification_message_per_address_per_minute(api: RunningApp) -> None:
    await api.register("slow@example.com")
    first = await request_verification(api, "slow@example.com")
    for _ in range(3):
        assert await request_verification(api, "slow@example.com") == first
    assert len(api.mailer.messages("email_verification")) == 1
    # A minute later, another message; the older token still works (it is not replaced).
    await EmailToken.all().update(created_at=utcnow() - timedelta(seconds=61))
    second = await request_verification(api, "slow@example.com")
    assert second not in (None, first)
    assert (await confirm_verification(api, first)).status_code == 200
    # Once verified, the other token dies.
    assert_error(await confirm_verification(api, second), 400, "VERIFICATION_TOKEN_INVALID")


async def test_concurrent_verification_requests_send_one_message(api: RunningApp) -> None:
    await api.register("burst@example.com")
    await asyncio.gather(
        *(
            api.client.post(api.url(VERIFY_REQUEST), json={"email": "burst@example.com"})
            for _ in range(10)
        )
    )
    await api.settled()
    assert len(api.mailer.messages("email_verification", "burst@example.com")) == 1


CHANGES = ["email_change", "admin_email", "password_change", "deactivate_then_reactivate"]


@pytest.mark.parametrize("change", CHANGES)
async def test_a_verification_token_dies_with_the_account_state(make_app: Any, change: str) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT_EMAIL, first_superuser_password=STRONG_PASSWORD
    )
    tokens = await api.user_with_tokens("ada@example.com")
    user_id = tokens["user"]["id"]
    root = bearer(await api.login(ROOT_EMAIL))
    token = await request_verification(api, "ada@example.com")
    if change == "email_change":
        changed = await confirm_change(api, await change_token(api, tokens, "ada2@example.com"))
    elif change == "admin_email":
        changed = await api.client.patch(
            api.url(f"/admin/users/{user_id}"), json={"email": "ada2@example.com"}, headers=root
        )
    elif change == "password_change":
        changed = await api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
    else:
        changed = await api.client.post(api.url(f"/admin/users/{user_id}/deactivate"), headers=root)
        assert changed.status_code == 200
        changed = await api.client.post(api.url(f"/admin/users/{user_id}/activate"), headers=root)
    assert changed.status_code == 200, changed.text
    assert_error(await confirm_verification(api, token), 400, "VERIFICATION_TOKEN_INVALID")
    user = await User.get(id=user_id)
    if change != "email_change":  # confirming an email change verifies the new address
        assert user.is_verified is False
        # A token made now, for the account as it is, works.
        await EmailToken.all().update(created_at=utcnow() - timedelta(seconds=61))
        fresh = await request_verification(api, user.email)
        assert (await confirm_verification(api, fresh)).status_code == 200


async def test_verification_token_of_an_inactive_account_is_refused(api: RunningApp) -> None:
    await api.register("off@example.com")
    token = await request_verification(api, "off@example.com")
    await User.filter(email="off@example.com").update(is_active=False)
    assert_error(await confirm_verification(api, token), 400, "VERIFICATION_TOKEN_INVALID")


# --- the login rule and registration -------------------------------------------------------


async def test_required_verification_refuses_logins_and_creates_nothing(make_app: Any) -> None:
    api: RunningApp = await make_app(require_verified_email=True)
    await api.register("req@example.com")  # sends a verification mail (follows REQUIRE)
    await api.settled()
    token = api.mailer.last_token_for("req@example.com", "email_verification")
    assert token is not None
    user = await User.get(email="req@example.com")
    login = {"email": "req@example.com", "password": STRONG_PASSWORD}
    body = assert_error(await api.client.post(api.url("/auth/login"), json=login), 403)
    assert body["errors"][0]["code"] == "EMAIL_NOT_VERIFIED"
    oauth = await api.client.post(
        api.url("/auth/login/oauth"),
        data={"username": "req@example.com", "password": STRONG_PASSWORD},
    )
    assert_error(oauth, 403, "EMAIL_NOT_VERIFIED")
    assert await UserSession.filter(user_id=user.id).count() == 0
    # Wrong credentials are 401 first; an inactive account is ACCOUNT_INACTIVE first.
    wrong = {"email": "req@example.com", "password": "not the password"}
    assert_error(await api.client.post(api.url("/auth/login"), json=wrong), 401)
    await User.filter(id=user.id).update(is_active=False)
    assert_error(await api.client.post(api.url("/auth/login"), json=login), 403, "ACCOUNT_INACTIVE")
    await User.filter(id=user.id).update(is_active=True)
    assert (await confirm_verification(api, token)).status_code == 200
    tokens = await api.login("req@example.com")
    assert tokens["user"]["is_verified"] is True


async def test_required_verification_keeps_existing_sessions(make_app: Any) -> None:
    api: RunningApp = await make_app()
    tokens = await api.user_with_tokens("old@example.com")
    stricter: RunningApp = await make_app(require_verified_email=True)
    assert (await me(stricter, tokens))["is_verified"] is False
    refreshed = await stricter.client.post(
        stricter.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text


@pytest.mark.parametrize(
    ("settings", "sent"),
    [
        ({}, False),
        ({"require_verified_email": True}, True),
        ({"send_verification_on_register": True}, True),
        ({"require_verified_email": True, "send_verification_on_register": False}, False),
    ],
)
async def test_verification_mail_on_register(
    make_app: Any, settings: dict[str, Any], sent: bool
) -> None:
    api: RunningApp = await make_app(**settings)
    await api.register("new@example.com")
    await api.settled()
    assert bool(api.mailer.messages("email_verification", "new@example.com")) is sent


async def test_the_first_superuser_is_verified_and_admin_users_get_no_mail(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT_EMAIL,
        first_superuser_password=STRONG_PASSWORD,
        send_verification_on_register=True,
    )
    root = await api.login(ROOT_EMAIL)
    assert root["user"]["is_verified"] is True
    made = await api.client.post(
        api.url("/admin/users"),
        json={"email": "made@example.com", "password": OTHER_STRONG_PASSWORD},
        headers=bearer(root),
    )
    assert made.status_code == 201, made.text
    assert made.json()["is_verified"] is False
    trusted = await api.client.post(
        api.url("/admin/users"),
        json={"email": "ok@example.com", "password": OTHER_STRONG_PASSWORD, "is_verified": True},
        headers=bearer(root),
    )
    assert trusted.json()["is_verified"] is True
    await api.settled()
    assert not api.mailer.messages("email_verification")


async def test_admin_sets_and_filters_is_verified_and_email_changes_unverify(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT_EMAIL, first_superuser_password=STRONG_PASSWORD
    )
    root = bearer(await api.login(ROOT_EMAIL))
    user = await api.register("kim@example.com")
    url = api.url(f"/admin/users/{user['id']}")
    for method in ("PATCH", "PUT"):
        response = await api.client.request(method, url, json={"is_verified": True}, headers=root)
        assert response.json()["is_verified"] is True
        await User.filter(id=user["id"]).update(is_verified=False)
    await User.filter(id=user["id"]).update(is_verified=True)
    listed = await api.client.get(api.url("/admin/users?is_verified=true"), headers=root)
    assert {row["email"] for row in listed.json()["data"]} == {ROOT_EMAIL, "kim@example.com"}
    # A new email is unverified unless the same body says otherwise; the old address is told.
    moved = await api.client.patch(url, json={"email": "kim2@example.com"}, headers=root)
    assert (moved.json()["email"], moved.json()["is_verified"]) == ("kim2@example.com", False)
    listed = await api.client.get(api.url("/admin/users?is_verified=false"), headers=root)
    assert [row["email"] for row in listed.json()["data"]] == ["kim2@example.com"]
    kept = await api.client.patch(
        url, json={"email": "kim3@example.com", "is_verified": True}, headers=root
    )
    assert kept.json()["is_verified"] is True
    await api.settled()
    notices = api.mailer.messages("email_changed")
    assert [(m.email, m.data) for m in notices] == [
        ("kim@example.com", {"old_email": "kim@example.com", "new_email": "kim2@example.com"}),
        ("kim2@example.com", {"old_email": "kim2@example.com", "new_email": "kim3@example.com"}),
    ]
    bad = await api.client.get(api.url("/admin/users?is_verified=maybe"), headers=root)
    assert assert_error(bad, 422)["errors"][0]["field"] == "is_verified"


# --- email change --------------------------------------------------------------------------


class AuditingManager(UserManager):
    events: list[AuditEvent] = []

    async def on_audit_event(self, event: AuditEvent) -> None:
        self.events.append(event)


async def test_email_change_flow(make_app: Any) -> None:
    AuditingManager.events = []
    api: RunningApp = await make_app(manager_class=AuditingManager)
    tokens = await api.user_with_tokens("cat@example.com")
    other_session = await api.login("cat@example.com")
    response = await request_change(api, tokens, " New.Cat@Example.com")
    assert response.status_code == 202, response.text
    assert response.json()["success"] is True and response.json()["message"]
    await api.settled()
    token = api.mailer.last_token_for("new.cat@example.com", "email_change_confirm")
    assert token is not None
    notice = api.mailer.messages("email_change_requested")
    assert [(m.email, m.token, m.data) for m in notice] == [
        ("cat@example.com", "", {"new_email": "new.cat@example.com"})
    ]
    # Nothing changes before the confirmation.
    assert (await me(api, tokens))["email"] == "cat@example.com"
    await api.login("cat@example.com")
    stored = await EmailToken.get(user_id=tokens["user"]["id"])
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()

    confirmed = await confirm_change(api, token)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["success"] is True
    account = await me(api, tokens)  # sessions are kept
    assert (account["email"], account["is_verified"]) == ("new.cat@example.com", True)
    assert (await me(api, other_session))["email"] == "new.cat@example.com"
    await api.login("new.cat@example.com")
    login = {"email": "cat@example.com", "password": STRONG_PASSWORD}
    assert_error(await api.client.post(api.url("/auth/login"), json=login), 401)
    assert_error(await confirm_change(api, token), 400, "EMAIL_CHANGE_TOKEN_INVALID")
    await api.settled()
    changed = api.mailer.messages("email_changed")
    assert [(m.email, m.data) for m in changed] == [
        ("cat@example.com", {"old_email": "cat@example.com", "new_email": "new.cat@example.com"})
    ]
    events = {event.name: event for event in AuditingManager.events}
    assert events["email.change_requested"].data == {"new_email": "new.cat@example.com"}
    assert events["email.changed"].data == {
        "old_email": "cat@example.com",
        "new_email": "new.cat@example.com",
    }
    assert str(events["email.changed"].user_id) == tokens["user"]["id"]


async def test_email_change_verifies_and_ends_every_other_token(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("dot@example.com")
    reset = await api.request_reset("dot@example.com")
    verify = await request_verification(api, "dot@example.com")
    token = await change_token(api, tokens, "dot2@example.com")
    assert (await confirm_change(api, token)).status_code == 200
    confirm_reset = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": reset, "new_password": OTHER_STRONG_PASSWORD},
    )
    assert_error(confirm_reset, 400, "RESET_TOKEN_INVALID")
    assert_error(await confirm_verification(api, verify), 400, "VERIFICATION_TOKEN_INVALID")


async def test_a_new_request_replaces_the_pending_change(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("eli@example.com")
    first = await change_token(api, tokens, "eli2@example.com")
    second = await change_token(api, tokens, "eli3@example.com")
    assert_error(await confirm_change(api, first), 400, "EMAIL_CHANGE_TOKEN_INVALID")
    assert (await confirm_change(api, second)).status_code == 200
    assert (await me(api, tokens))["email"] == "eli3@example.com"


@pytest.mark.parametrize("change", ["password_change", "deactivate", "expired"])
async def test_an_email_change_token_dies_with_the_account_state(
    api: RunningApp, change: str
) -> None:
    tokens = await api.user_with_tokens("fox@example.com")
    token = await change_token(api, tokens, "fox2@example.com")
    if change == "password_change":
        response = await api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
        assert response.status_code == 200
    elif change == "deactivate":
        assert (await api.client.delete(api.url("/users/me"), headers=bearer(tokens))).is_success
        await User.filter(email="fox@example.com").update(is_active=True)
    else:
        await EmailToken.all().update(expires_at=utcnow() - timedelta(seconds=1))
    body = assert_error(await confirm_change(api, token), 400, "EMAIL_CHANGE_TOKEN_INVALID")
    assert body["errors"][0]["field"] == "token"
    assert (await User.get(id=tokens["user"]["id"])).email == "fox@example.com"


async def test_email_change_input_and_credential_checks(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=2)
    await api.register("taken@example.com")
    tokens = await api.user_with_tokens("gil@example.com")
    url = api.url(CHANGE_REQUEST)
    same = await request_change(api, tokens, " GIL@example.com")
    assert assert_error(same, 422)["errors"][0]["field"] == "new_email"
    both = await api.client.post(url, json={"new_email": "Gil@example.com"}, headers=bearer(tokens))
    # The password is optional now (step-up): only the address is at fault.
    assert [e["field"] for e in assert_error(both, 422)["errors"]] == ["new_email"]
    bad = await request_change(api, tokens, "not an address")
    assert assert_error(bad, 422)["errors"][0]["field"] == "new_email"
    assert_error(await api.client.post(url, json={"new_email": "x@example.com"}), 401)
    # A wrong password is refused (and counted) before the address is looked at.
    wrong = await request_change(api, tokens, "taken@example.com", "not the password")
    assert assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")["errors"][0]["field"] == (
        "current_password"
    )
    taken = await request_change(api, tokens, "TAKEN@example.com")
    assert assert_error(taken, 409, "EMAIL_TAKEN")["errors"][0]["field"] == "new_email"
    for _ in range(2):
        await request_change(api, tokens, "taken@example.com", "not the password")
    assert_error(await request_change(api, tokens, "free@example.com"), 429, "ACCOUNT_LOCKED")
    await api.settled()
    assert not api.mailer.messages("email_change_confirm")


async def test_an_address_taken_before_the_confirmation_spends_the_token(
    api: RunningApp,
) -> None:
    tokens = await api.user_with_tokens("hal@example.com")
    token = await change_token(api, tokens, "wanted@example.com")
    await api.register("wanted@example.com")
    assert_error(await confirm_change(api, token), 409, "EMAIL_TAKEN")
    await User.filter(email="wanted@example.com").delete()
    assert_error(await confirm_change(api, token), 400, "EMAIL_CHANGE_TOKEN_INVALID")
    assert (await me(api, tokens))["email"] == "hal@example.com"


async def test_two_accounts_confirming_one_address_at_once_one_wins(api: RunningApp) -> None:
    """Truly concurrent confirmations against the running server (on PostgreSQL they run at
    once; SQLite serialises them): the unique email lets exactly one win."""
    for round_ in range(3):
        wanted = f"prize{round_}@example.com"
        people = [await api.user_with_tokens(f"p{round_}-{i}@example.com") for i in range(2)]
        tokens = [await change_token(api, person, wanted) for person in people]
        responses = await asyncio.gather(*(confirm_change(api, token) for token in tokens))
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        lost = next(i for i, r in enumerate(responses) if r.status_code == 409)
        assert_error(responses[lost], 409, "EMAIL_TAKEN")
        loser = tokens[lost]
        assert_error(await confirm_change(api, loser), 400, "EMAIL_CHANGE_TOKEN_INVALID")
        assert await User.filter(email=wanted).count() == 1


async def test_email_change_limits(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True)
    tokens = await api.user_with_tokens("ivy@example.com")
    statuses = [
        (await request_change(api, tokens, f"ivy{i}@example.com")).status_code for i in range(4)
    ]
    assert statuses == [202, 202, 202, 429]  # AUTH_RATE_LIMIT_EMAIL_CHANGE: 3/minute
    # Another user has a counter of their own.
    other = await api.user_with_tokens("jay@example.com")
    assert (await request_change(api, other, "jay2@example.com")).status_code == 202
    confirms = [(await confirm_change(api, f"bad-{i}")).status_code for i in range(11)]
    assert confirms == [400] * 10 + [429]  # AUTH_RATE_LIMIT_EMAIL_CHANGE_CONFIRM: 10/minute


async def test_verification_limits(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True)
    url = api.url(VERIFY_REQUEST)
    requests = [
        (await api.client.post(url, json={"email": f"q{i}@example.com"})).status_code
        for i in range(4)
    ]
    assert requests == [200, 200, 200, 429]
    confirms = [(await confirm_verification(api, f"bad-{i}")).status_code for i in range(11)]
    assert confirms == [400] * 10 + [429]
    limited = await confirm_verification(api, "bad")
    assert_error(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1


# --- equal timing: the answer comes before any per-account work ---------------------------


class BlockedMailer(InMemoryMailer):
    """Holds every message until ``release`` is set; fails when ``broken``."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = 0
        self.broken = False

    async def send_message(self, kind: str, email: str, token: str | None, data: Any) -> None:
        self.started += 1
        await self.release.wait()
        if self.broken:
            raise ConnectionError("the mail server hung up")
        await super().send_message(kind, email, token, data)


class SlowLookupManager(UserManager):
    """Holds the per-account work of a verification request until ``release`` is set."""

    release: asyncio.Event
    started = 0

    async def request_email_verification(self, email: str) -> None:
        type(self).started += 1
        await type(self).release.wait()
        await super().request_email_verification(email)


async def test_verification_request_is_answered_before_the_account_work(make_app: Any) -> None:
    SlowLookupManager.release = asyncio.Event()
    SlowLookupManager.started = 0
    mailer = BlockedMailer()
    api: RunningApp = await make_app(manager_class=SlowLookupManager, mailer=mailer)
    await api.register("wait@example.com")
    answers = []
    for email in ("wait@example.com", "nobody@example.com"):
        response = await api.client.post(api.url(VERIFY_REQUEST), json={"email": email})
        answers.append((response.status_code, response.json()))
    # Both answered while the lookup itself was still held back.
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert await EmailToken.all().count() == 0
    SlowLookupManager.release.set()
    await until(lambda: mailer.started == 1, "the real account's mail is started")
    assert not mailer.outbox  # held
    mailer.release.set()
    await api.settled()
    assert mailer.started == 1  # that account's mail only
    assert mailer.last_token_for("wait@example.com", "email_verification") is not None


async def test_a_failing_verification_mail_is_logged_not_answered(make_app: Any) -> None:
    mailer = BlockedMailer()
    mailer.broken = True
    mailer.release.set()
    api: RunningApp = await make_app(mailer=mailer)
    await api.register("broken@example.com")
    with captured_errors() as records:
        response = await api.client.post(
            api.url(VERIFY_REQUEST), json={"email": "broken@example.com"}
        )
        await api.settled()
    assert response.status_code == 200
    assert any("verification request failed" in r.getMessage() for r in records)


async def test_email_change_mails_are_sent_after_the_answer(make_app: Any) -> None:
    mailer = BlockedMailer()
    api: RunningApp = await make_app(mailer=mailer)
    tokens = await api.user_with_tokens("kit@example.com")
    response = await request_change(api, tokens, "kit2@example.com")
    assert response.status_code == 202
    assert not mailer.outbox
    mailer.release.set()
    await api.settled()
    assert {m.kind for m in mailer.outbox} == {"email_change_confirm", "email_change_requested"}
