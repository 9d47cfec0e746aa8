"""What an outside tester broke over HTTP, and the property that now stops each attack.

Every test here failed on the code before the fix (numbers are those of the hardening
issue and of the table in docs/security.md) and runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from sanic_auth_sessions import InMemoryMailer
from sanic_auth_sessions.core.models import User, UserSession

from .conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from .helpers import assert_error, session_id, until
from .redis_server import captured_errors

ROOT = "root@example.com"


def unique(name: str) -> str:
    return f"{name}-{uuid4().hex[:8]}@example.com"


async def raw_request(api: RunningApp, head: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` (request line and headers) as bytes; the status, headers and body."""
    address = urlsplit(api.base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(head)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head_bytes.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ")[1]), headers, body


def assert_contract_body(body: bytes, code: str) -> None:
    parsed = json.loads(body)
    assert parsed["success"] is False
    assert parsed["errors"][0]["code"] == code


# --- 1. the lockout cannot be beaten by a burst --------------------------------------------


@pytest.mark.parametrize("storage", ["memory", "redis"])
async def test_concurrent_guesses_get_at_most_the_limit_of_checks(
    make_app: Any, request: pytest.FixtureRequest, storage: str
) -> None:
    """8 wrong passwords at once from 8 addresses, at the default bcrypt cost: 5 checks."""
    storage_url = "memory://" if storage == "memory" else request.getfixturevalue("redis_url")
    api: RunningApp = await make_app(
        lockout_enabled=True,
        lockout_max_failures=5,
        bcrypt_rounds=12,
        trusted_proxies="127.0.0.1",
        rate_limit_storage_url=storage_url,
        # The property is the atomic reservation: bcrypt at cost 12 loads the machine, and a
        # Redis answer later than the default budget would be taken for an outage (fail open).
        rate_limit_storage_timeout_ms=5000,
    )
    email = unique("burst")
    await api.register(email)

    async def guess(index: int) -> int:
        response = await api.client.post(
            api.url("/auth/login"),
            json={"email": email, "password": f"wrong guess number {index}"},
            headers={"X-Forwarded-For": f"198.51.100.{index + 1}"},
        )
        return response.status_code

    statuses = await asyncio.gather(*(guess(i) for i in range(8)))
    assert sorted(statuses) == [401] * 5 + [429] * 3
    right = await api.client.post(
        api.url("/auth/login"), json={"email": email, "password": STRONG_PASSWORD}
    )
    assert_error(right, 429, "ACCOUNT_LOCKED")
    assert right.headers["retry-after"] == "900"


# --- 2. one parse of the body for the limiter, the lockout and the handler -------------------


async def test_the_per_email_limit_counts_what_the_handler_logs_in(make_app: Any) -> None:
    api: RunningApp = await make_app(
        rate_limit_enabled=True,
        rate_limit_login="100/minute",
        rate_limit_login_email="3/minute",
        rate_limit_register="100/minute",
    )
    await api.register("v@example.com")
    body = json.dumps({"email": "v@example.com", "password": STRONG_PASSWORD})
    url = api.url("/auth/login")
    # The four bypasses: each refused before any limit that depends on the body.
    as_form = await api.client.post(
        url, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert_error(as_form, 415, "UNSUPPORTED_MEDIA_TYPE")
    with_bom = await api.client.post(
        url, content=b"\xef\xbb\xbf" + body.encode(), headers={"content-type": "application/json"}
    )
    assert_error(with_bom, 400, "BAD_REQUEST")
    utf16 = await api.client.post(
        url, content=body.encode("utf-16"), headers={"content-type": "application/json"}
    )
    assert_error(utf16, 400, "BAD_REQUEST")
    named_utf16 = await api.client.post(
        url,
        content=body.encode("utf-16"),
        headers={"content-type": "application/json; charset=utf-16"},
    )
    assert_error(named_utf16, 415, "UNSUPPORTED_MEDIA_TYPE")
    # Every spelling of the address is the one account and the one counter.
    ids = set()
    for spelling in ("v@example.com", "V@EXAMPLE.COM", "v@\uff45xample.com"):
        response = await api.client.post(url, json={"email": spelling, "password": STRONG_PASSWORD})
        assert response.status_code == 200, response.text
        ids.add(response.json()["user"]["id"])
    assert len(ids) == 1
    fourth = await api.client.post(
        url, json={"email": " v@example.com ", "password": STRONG_PASSWORD}
    )
    assert_error(fourth, 429, "RATE_LIMITED")


async def test_json_routes_take_only_utf8_json(api: RunningApp) -> None:
    url = api.url("/auth/register")
    body = json.dumps({"email": unique("mt"), "password": STRONG_PASSWORD}).encode()
    for content_type in ("Application/JSON", 'application/json; Charset="UTF-8"'):
        ok = await api.client.post(url, content=body, headers={"content-type": content_type})
        assert ok.status_code == 201, (content_type, ok.text)
        body = json.dumps({"email": unique("mt"), "password": STRONG_PASSWORD}).encode()
    for content_type in ("text/plain", "application/json; charset=latin-1", "application/jsonx"):
        refused = await api.client.post(url, content=body, headers={"content-type": content_type})
        assert_error(refused, 415, "UNSUPPORTED_MEDIA_TYPE")
    untyped = await api.client.post(url, content=body, headers={"content-type": ""})
    assert_error(untyped, 415, "UNSUPPORTED_MEDIA_TYPE")
    # The form route takes only its form.
    as_json = await api.client.post(
        api.url("/auth/login/oauth"), json={"username": "a@example.com", "password": "x"}
    )
    assert_error(as_json, 415, "UNSUPPORTED_MEDIA_TYPE")
    multipart = await api.client.post(
        api.url("/auth/login/oauth"), data={"username": "a@example.com"}, files={"f": b"1"}
    )
    assert_error(multipart, 415, "UNSUPPORTED_MEDIA_TYPE")
    # A route without a body ignores whatever is sent.
    tokens = await api.user_with_tokens(unique("nobody"))
    ignored = await api.client.post(
        api.url("/auth/logout-all"),
        content=b"\x00\xff",
        headers={**bearer(tokens), "content-type": "image/png"},
    )
    assert ignored.status_code == 200


# --- 3. single-use tokens die when the account changes --------------------------------------


CHANGES = ["email_change", "password_change", "admin_password", "deactivate_then_reactivate"]


@pytest.mark.parametrize("change", CHANGES)
async def test_a_reset_token_dies_with_the_account_state_it_was_made_for(
    make_app: Any, change: str
) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT, first_superuser_password=STRONG_PASSWORD
    )
    email = unique("victim")
    tokens = await api.user_with_tokens(email)
    user_id = tokens["user"]["id"]
    root = bearer(await api.login(ROOT))
    token = await api.request_reset(email)
    assert token is not None
    if change == "email_change":
        new_email = unique("new")
        requested = await api.client.post(
            api.url("/users/me/email"),
            json={"new_email": new_email, "current_password": STRONG_PASSWORD},
            headers=bearer(tokens),
        )
        assert requested.status_code == 202, requested.text
        await api.settled()
        change_token = api.mailer.last_token_for(new_email, "email_change_confirm")
        response = await api.client.post(
            api.url("/auth/email-change/confirm"), json={"token": change_token}
        )
    elif change == "password_change":
        response = await api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
    elif change == "admin_password":
        response = await api.client.patch(
            api.url(f"/admin/users/{user_id}"),
            json={"password": OTHER_STRONG_PASSWORD},
            headers=root,
        )
    else:
        response = await api.client.post(
            api.url(f"/admin/users/{user_id}/deactivate"), headers=root
        )
        assert response.status_code == 200
        response = await api.client.post(api.url(f"/admin/users/{user_id}/activate"), headers=root)
    assert response.status_code == 200, response.text
    confirm = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": token, "new_password": "an attacker's chosen passphrase"},
    )
    assert_error(confirm, 400, "RESET_TOKEN_INVALID")
    # A token made after the change works.
    current_email = (await User.get(id=user_id)).email
    fresh = await api.request_reset(current_email)
    assert fresh is not None
    confirm = await api.client.post(
        api.url("/auth/password-reset/confirm"),
        json={"token": fresh, "new_password": "a passphrase chosen afterwards"},
    )
    assert confirm.status_code == 200, confirm.text


# --- 4. the reset request answers before any per-account work -------------------------------


class BlockedMailer(InMemoryMailer):
    """Holds every message until ``release`` is set; fails when ``broken``."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.started = 0
        self.broken = False

    async def send_password_reset(self, email: str, token: str) -> None:
        self.started += 1
        await self.release.wait()
        if self.broken:
            raise ConnectionError("the mail server hung up")
        await super().send_password_reset(email, token)


async def test_the_reset_request_is_answered_before_the_mailer_runs(make_app: Any) -> None:
    mailer = BlockedMailer()
    api: RunningApp = await make_app(mailer=mailer)
    email = unique("slowmail")
    await api.register(email)
    url = api.url("/auth/password-reset/request")
    answers = []
    for address in (email, unique("nobody")):
        response = await api.client.post(url, json={"email": address})
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1]
    assert answers[0][0] == 200
    assert not mailer.outbox  # answered while the mail is still held back
    await until(lambda: mailer.started == 1, "the real account's mail is started")
    mailer.release.set()
    await api.settled()
    assert mailer.started == 1  # only the real account gets a mail, after its answer
    assert mailer.last_token_for(email) is not None


async def test_a_failing_mailer_is_logged_and_never_reaches_the_client(make_app: Any) -> None:
    mailer = BlockedMailer()
    mailer.broken = True
    mailer.release.set()
    api: RunningApp = await make_app(mailer=mailer)
    email = unique("brokenmail")
    await api.register(email)
    with captured_errors() as records:
        response = await api.client.post(
            api.url("/auth/password-reset/request"), json={"email": email}
        )
        await api.settled()
    assert response.status_code == 200
    assert any("password-reset request failed" in r.getMessage() for r in records)


# --- 5. and 6. existence and password oracles are limited ----------------------------------


async def test_adding_members_by_email_is_limited_per_user(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, rate_limit_add_member="3/minute")
    owner = await api.user_with_tokens(unique("owner"))
    org = await api.client.post(
        api.url("/organizations"), json={"name": "Probe"}, headers=bearer(owner)
    )
    url = api.url(f"/organizations/{org.json()['id']}/members")
    statuses = []
    for _ in range(4):
        response = await api.client.post(
            url, json={"email": unique("probe"), "role": "member"}, headers=bearer(owner)
        )
        statuses.append(response.status_code)
    assert statuses == [404, 404, 404, 429]
    assert_error(response, 429, "RATE_LIMITED")


async def test_a_new_email_needs_the_current_password_and_is_limited(make_app: Any) -> None:
    api: RunningApp = await make_app(
        rate_limit_enabled=True, rate_limit_email_change="4/minute", lockout_enabled=True
    )
    taken = unique("taken")
    await api.register(taken)
    tokens = await api.user_with_tokens(unique("prober"))
    url = api.url("/users/me/email")
    # A fresh session needs no proof (step-up); one that is present is always checked.
    missing = await api.client.post(url, json={"new_email": taken}, headers=bearer(tokens))
    assert_error(missing, 409, "EMAIL_TAKEN")
    # A wrong password is refused before anything says whether the address is taken.
    wrong = await api.client.post(
        url,
        json={"new_email": taken, "current_password": "not my password"},
        headers=bearer(tokens),
    )
    assert_error(wrong, 403, "AUTH_WRONG_PASSWORD")
    right = await api.client.post(
        url, json={"new_email": taken, "current_password": STRONG_PASSWORD}, headers=bearer(tokens)
    )
    assert_error(right, 409, "EMAIL_TAKEN")
    free = await api.client.post(
        url,
        json={"new_email": unique("free"), "current_password": STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert free.status_code == 202, free.text
    assert_error(
        await api.client.post(
            url,
            json={"new_email": unique("more"), "current_password": STRONG_PASSWORD},
            headers=bearer(tokens),
        ),
        429,
        "RATE_LIMITED",
    )
    # PATCH /users/me no longer takes an email, with or without the password.
    patch = await api.client.patch(
        api.url("/users/me"),
        json={"email": unique("patched"), "current_password": STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert {e["field"] for e in assert_error(patch, 422, "VALIDATION_ERROR")["errors"]} == {
        "email",
        "current_password",
    }


async def test_wrong_current_passwords_count_toward_the_lockout(make_app: Any) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=5)
    email = unique("stolen")
    tokens = await api.user_with_tokens(email)
    url = api.url("/users/me/password")
    for index in range(5):
        response = await api.client.patch(
            url,
            json={"current_password": f"guess {index}", "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
        assert_error(response, 403, "AUTH_WRONG_PASSWORD")
    right = await api.client.patch(
        url,
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert_error(right, 429, "ACCOUNT_LOCKED")
    login = await api.client.post(
        api.url("/auth/login"), json={"email": email, "password": STRONG_PASSWORD}
    )
    assert_error(login, 429, "ACCOUNT_LOCKED")


async def test_password_changes_are_limited_per_user(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, rate_limit_password_change="2/minute")
    tokens = await api.user_with_tokens(unique("limited"))
    statuses = []
    for index in range(3):
        response = await api.client.patch(
            api.url("/users/me/password"),
            json={"current_password": f"guess {index}", "new_password": OTHER_STRONG_PASSWORD},
            headers=bearer(tokens),
        )
        statuses.append(response.status_code)
    assert statuses == [403, 403, 429]


# --- 7. the last superuser stays -----------------------------------------------------------


async def test_the_only_active_superuser_cannot_deactivate_themselves(make_app: Any) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT, first_superuser_password=STRONG_PASSWORD
    )
    root = await api.login(ROOT)
    alone = await api.client.delete(api.url("/users/me"), headers=bearer(root))
    assert_error(alone, 409, "LAST_SUPERUSER")
    assert (await User.get(email=ROOT)).is_active
    # With a second superuser, each may leave, but not both at once.
    deputy_email = unique("deputy")
    deputy = await api.user_with_tokens(deputy_email)
    promoted = await api.client.patch(
        api.url(f"/admin/users/{deputy['user']['id']}"),
        json={"is_superuser": True},
        headers=bearer(root),
    )
    assert promoted.status_code == 200
    both = await asyncio.gather(
        api.client.delete(api.url("/users/me"), headers=bearer(root)),
        api.client.delete(api.url("/users/me"), headers=bearer(deputy)),
    )
    assert sorted(r.status_code for r in both) == [200, 409]
    assert await User.filter(is_superuser=True, is_active=True).count() == 1


async def run_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sanic_auth_sessions",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"AUTH_BCRYPT_ROUNDS": "4", "PATH": ""},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_create_superuser_from_the_command_line(make_app: Any, database_url: str) -> None:
    api: RunningApp = await make_app()
    url = database_url
    email = unique("operator")
    assert await run_cli("create-superuser", "--database-url", url, "--email", email) == (
        2,
        "",
        "Error: No account has this email: give a password to create it.\n",
    )
    code, out, err = await run_cli(
        "create-superuser", "--database-url", url, "--email", email, "--password", "admin123"
    )
    assert code == 2 and "too short" in err
    code, out, _ = await run_cli(
        "create-superuser", "--database-url", url, "--email", email.upper(), "--password",
        STRONG_PASSWORD,
    )  # fmt: skip
    assert code == 0 and out.strip() == f"Created the superuser {email}."
    assert (await api.login(email))["user"]["is_superuser"] is True

    # An existing, deactivated account is promoted and reactivated; its password may change.
    member = unique("member")
    tokens = await api.user_with_tokens(member)
    await api.client.delete(api.url("/users/me"), headers=bearer(tokens))
    code, out, _ = await run_cli(
        "create-superuser", "--database-url", url, "--email", member, "--password",
        OTHER_STRONG_PASSWORD,
    )  # fmt: skip
    assert code == 0 and out.strip() == f"Promoted and reactivated the superuser {member}."
    body = await api.login(member, OTHER_STRONG_PASSWORD)
    assert body["user"]["is_superuser"] is True and body["user"]["is_active"] is True


# --- 8. no parser path gives a 500 ---------------------------------------------------------


async def test_deep_or_broken_bodies_are_400_and_never_logged_as_errors(api: RunningApp) -> None:
    def nested(depth: int) -> str:
        return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)

    login = api.url("/auth/login")
    with captured_errors() as records:
        for body in ("[" * 100_000, "[" * 33 + "]" * 33, nested(33)):
            response = await api.client.post(
                login, content=body, headers={"content-type": "application/json"}
            )
            body_out = assert_error(response, 400, "BAD_REQUEST")
            assert "nested deeper than 32" in body_out["errors"][0]["message"]
        at_limit = await api.client.post(
            login,
            content='{"email": ' + nested(31) + ', "password": "x"}',
            headers={"content-type": "application/json"},
        )
        assert_error(at_limit, 422, "VALIDATION_ERROR")  # parsed; the email is no string
        huge_number = await api.client.post(
            login,
            content='{"email": ' + "9" * 5000 + "}",
            headers={"content-type": "application/json"},
        )
        assert_error(huge_number, 400, "BAD_REQUEST")
        form = api.url("/auth/login/oauth")
        form_type = {"content-type": "application/x-www-form-urlencoded"}
        assert_error(await api.client.post(form, content=b"\xff\xfe", headers=form_type), 400)
        assert_error(
            await api.client.post(form, content=b"username=%ff%fe&password=x", headers=form_type),
            422,
        )
        assert_error(
            await api.client.post(form, content=b"&".join([b"a=1"] * 1000), headers=form_type),
            400,
        )
        root = await api.user_with_tokens(unique("q"))
        await User.filter(id=root["user"]["id"]).update(is_superuser=True)
        for query in ("page=%ff", "limit=1e999", "search=%00", "cursor=%ff%ff", "page=-1&page=x"):
            response = await api.client.get(api.url(f"/admin/users?{query}"), headers=bearer(root))
            assert_error(response, 422)
    assert not records, [r.getMessage() for r in records]


# --- 10. look-alike accounts --------------------------------------------------------------


async def test_look_alike_emails_are_the_same_account(api: RunningApp) -> None:
    plain = await api.register("rt-x@example.com")
    full_width = "\uff52\uff54-\uff58@example.com"
    for spelling in (full_width, "  RT-X@EXAMPLE.COM ", "rt-x@\uff45xample.com"):
        response = await api.client.post(
            api.url("/auth/register"), json={"email": spelling, "password": STRONG_PASSWORD}
        )
        assert_error(response, 409, "EMAIL_TAKEN")
    assert (await api.login(full_width))["user"]["id"] == plain["id"]
    other = await api.user_with_tokens("someone@example.com")
    change = await api.client.post(
        api.url("/users/me/email"),
        json={"new_email": full_width, "current_password": STRONG_PASSWORD},
        headers=bearer(other),
    )
    assert_error(change, 409, "EMAIL_TAKEN")
    # What is stored and returned is the normalized address.
    new = await api.register("\uff2e\uff25\uff37@Example.com")
    assert new["email"] == "new@example.com"


# --- 11. control characters never reach storage ---------------------------------------------


async def test_control_and_bidi_characters_are_stripped_from_device_headers(
    api: RunningApp,
) -> None:
    email = unique("ctl")
    await api.register(email)
    body = json.dumps({"email": email, "password": STRONG_PASSWORD}).encode()
    user_agent = "Mozilla/5.0\x1b[31m (X11; Linux x86_64)\x07\x7f\u202e evil"
    head = (
        f"POST {api.url('/auth/login')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nUser-Agent: {user_agent}\r\n"
        "X-Device-Id: \x1b]0;pwned\x07device-1\u2066\r\n\r\n"
    ).encode() + body
    status, _, raw = await raw_request(api, head)
    assert status == 200, raw
    tokens = json.loads(raw)
    session = await UserSession.get(id=session_id(tokens))
    assert session.user_agent == "Mozilla/5.0[31m (X11; Linux x86_64) evil"
    assert session.device_id == "]0;pwneddevice-1"
    for text in (session.user_agent, session.device_id, session.device_name):
        assert text is not None
        assert not any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u202e\u2066" for c in text)


async def test_a_header_of_only_control_characters_is_stored_as_null(api: RunningApp) -> None:
    email = unique("ctl")
    await api.register(email)
    body = json.dumps({"email": email, "password": STRONG_PASSWORD}).encode()
    head = (
        f"POST {api.url('/auth/login')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "X-Device-Id: \x1b\x07\u202e\r\n\r\n"
    ).encode() + body
    status, _, raw = await raw_request(api, head)
    assert status == 200
    session = await UserSession.get(id=session_id(json.loads(raw)))
    assert session.device_id is None


# --- 12. every refusal has the contract's body ----------------------------------------------


async def test_oversized_headers_get_431_with_the_contract_body_on_every_path(
    api: RunningApp,
) -> None:
    for path in (api.url("/users/me"), "/health", "/some/host/path"):
        response = await api.client.get(path, headers={"X-Padding": "p" * 20_000})
        assert_error(response, 431, "HEADERS_TOO_LARGE")


async def test_malformed_requests_and_unknown_routes_get_the_contract_body(
    api: RunningApp,
) -> None:
    status, headers, body = await raw_request(api, b"GARBAGE\r\n\r\n")
    assert status == 400 and headers["content-type"].startswith("application/json")
    assert_contract_body(body, "BAD_REQUEST")
    assert_error(await api.client.get(api.url("/no/such/route")), 404, "NOT_FOUND")
    assert_error(await api.client.put(api.url("/auth/login")), 405, "METHOD_NOT_ALLOWED")


# --- 13. a 422 lists every bad field --------------------------------------------------------


async def test_a_bad_email_and_a_weak_password_are_reported_together(api: RunningApp) -> None:
    response = await api.client.post(
        api.url("/auth/register"),
        json={"password": "password", "email": "not-an-email", "first_name": 7},
    )
    body = assert_error(response, 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("email", "VALIDATION_ERROR"),
        ("password", "PASSWORD_TOO_SHORT"),
        ("first_name", "VALIDATION_ERROR"),
    ]
    guessable = await api.client.post(
        api.url("/auth/register"),
        json={"email": "ada.lovelace@@x", "password": "ada.lovelace@@x"},
    )
    assert [(e["field"], e["code"]) for e in assert_error(guessable, 422)["errors"]] == [
        ("email", "VALIDATION_ERROR"),
        ("password", "PASSWORD_TOO_COMMON"),
    ]


# --- 14. token responses are never cached ---------------------------------------------------


async def test_token_responses_are_not_stored_by_caches(api: RunningApp) -> None:
    email = unique("cache")
    await api.register(email)
    login = await api.client.post(
        api.url("/auth/login"), json={"email": email, "password": STRONG_PASSWORD}
    )
    oauth = await api.client.post(
        api.url("/auth/login/oauth"), data={"username": email, "password": STRONG_PASSWORD}
    )
    refresh = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": login.json()["refresh_token"]}
    )
    for response in (login, oauth, refresh):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"


# --- 15. admin answers say what happened ----------------------------------------------------


async def test_activate_and_deactivate_answer_the_row_as_stored(make_app: Any) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT, first_superuser_password=STRONG_PASSWORD
    )
    root = bearer(await api.login(ROOT))
    user = await api.register(unique("flip"))
    for action in ("deactivate", "activate"):
        await asyncio.sleep(0.01)
        response = await api.client.post(
            api.url(f"/admin/users/{user['id']}/{action}"), headers=root
        )
        assert response.status_code == 200
        answered = response.json()["user"]
        stored = await User.get(id=user["id"])
        assert answered["is_active"] is (action == "activate")
        assert answered["updated_at"] == stored.updated_at.isoformat()
        assert answered["updated_at"] > user["updated_at"]


# --- 16. an inactive user's session never refreshes -----------------------------------------


async def test_refresh_refuses_an_inactive_user_even_with_a_live_session(
    api: RunningApp,
) -> None:
    tokens = await api.user_with_tokens(unique("ghost"))
    # As if a deactivation had not revoked the sessions (a bug, or a manual UPDATE).
    await User.filter(id=tokens["user"]["id"]).update(is_active=False)
    response = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert_error(response, 401, "AUTH_INVALID_TOKEN")
    await User.filter(id=tokens["user"]["id"]).update(is_active=True)
    again = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 200  # it was refused, not treated as reuse
