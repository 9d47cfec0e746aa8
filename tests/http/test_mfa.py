"""Two-factor authentication over HTTP, as a client sees it: the codes are computed with pyotp
from the secret the setup answers, never read from the server's tables.

To stay clear of the 30-second step boundary, each test that uses several codes starts early
in a step (:func:`early_in_a_step`, which moves the servers' TOTP clock on rather than wait)
and takes codes of the previous, current and next step, all within the accepted window, in
that order.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from typing import Any

import pyotp
import pytest

from sanic_auth_sessions.core.models import MfaChallenge, RecoveryCode, TotpFactor, User

from ..conftest import OTHER_STRONG_PASSWORD, STRONG_PASSWORD, RunningApp, bearer
from ..helpers import ROOT_EMAIL, TOTP_CLOCK, USER_FIELDS, age_session, assert_error

STEP_S = 30
RECOVERY_CODE = re.compile(r"^[a-z2-7]{5}-[a-z2-7]{5}$")


async def early_in_a_step(margin_s: float = 4.0) -> None:
    """Make sure at least ``margin_s`` seconds of the current TOTP step are left (enough for
    the test's requests): if fewer are, the servers' TOTP clock moves on to the start of the
    next step, as if the test had waited for it (:class:`~tests.helpers.TotpClock`)."""
    left = STEP_S - TOTP_CLOCK() % STEP_S
    if left < margin_s:
        TOTP_CLOCK.skew += left + 0.05


def code(secret: str, steps_from_now: int = 0) -> str:
    """The code of the step ``steps_from_now`` steps away from the current one."""
    return pyotp.TOTP(secret).at(TOTP_CLOCK() + steps_from_now * STEP_S)


async def login_step(api: RunningApp, email: str, **headers: str) -> Any:
    return await api.client.post(
        api.url("/auth/login"), json={"email": email, "password": STRONG_PASSWORD}, headers=headers
    )


async def second_step(api: RunningApp, mfa_token: str, **body_and_headers: Any) -> Any:
    headers = body_and_headers.pop("headers", {})
    return await api.client.post(
        api.url("/auth/login/mfa"),
        json={"mfa_token": mfa_token, **body_and_headers},
        headers=headers,
    )


async def enable_mfa(api: RunningApp, email: str, **headers: str) -> dict[str, Any]:
    """Register ``email``, sign in, enable TOTP (with the code of the previous step); the
    tokens, the secret and the recovery codes."""
    tokens = await api.user_with_tokens(email, **headers)
    setup = await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=bearer(tokens))
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    confirmed = await api.client.post(
        api.url("/users/me/mfa/totp/confirm"),
        json={"code": code(secret, -1), "current_password": STRONG_PASSWORD},
        headers=bearer(tokens),
    )
    assert confirmed.status_code == 200, confirmed.text
    return {**tokens, "secret": secret, "recovery_codes": confirmed.json()["recovery_codes"]}


async def mfa_token_of(api: RunningApp, email: str, **headers: str) -> str:
    response = await login_step(api, email, **headers)
    assert response.status_code == 200, response.text
    token: str = response.json()["mfa_token"]
    return token


async def test_setup_confirm_and_a_login_in_two_steps(api: RunningApp) -> None:
    await early_in_a_step()
    tokens = await api.user_with_tokens("ann@example.com")
    me = bearer(tokens)
    assert tokens["user"]["mfa_enabled"] is False
    assert tokens["user"].keys() == USER_FIELDS
    status = await api.client.get(api.url("/users/me/mfa"), headers=me)
    assert status.json() == {
        "enabled": False,
        "methods": [],
        "recovery_codes_remaining": 0,
        "enabled_at": None,
    }

    setup = await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me)
    assert setup.status_code == 200, setup.text
    assert setup.headers["cache-control"] == "no-store"
    body = setup.json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg", "expires_in"}
    secret = body["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)  # 20 bytes, unpadded base32
    assert body["expires_in"] == 600
    assert body["otpauth_uri"] == (
        "otpauth://totp/sanic-auth-sessions%3Aann%40example.com?secret="
        f"{secret}&issuer=sanic-auth-sessions&algorithm=SHA1&digits=6&period=30"
    )
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert parsed.secret == secret and parsed.issuer == "sanic-auth-sessions"
    svg = body["qr_svg"]
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    lowered = svg.lower()
    for forbidden in ("<script", "href", "url(", "<foreignobject", "<image", "<use", "on"):
        if forbidden == "on":
            assert not re.search(r"\son\w+\s*=", lowered)
        else:
            assert forbidden not in lowered
    assert re.findall(r"https?://[^\"']*", svg) == ["http://www.w3.org/2000/svg"]

    confirmed = await api.client.post(
        api.url("/users/me/mfa/totp/confirm"),
        json={"code": code(secret, -1), "current_password": STRONG_PASSWORD},
        headers=me,
    )
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.headers["cache-control"] == "no-store"
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert all(RECOVERY_CODE.match(c) for c in recovery)
    status = (await api.client.get(api.url("/users/me/mfa"), headers=me)).json()
    assert status["enabled"] is True
    assert status["methods"] == ["totp", "recovery_code"]
    assert status["recovery_codes_remaining"] == 10
    assert status["enabled_at"] is not None
    assert (await api.client.get(api.url("/users/me"), headers=me)).json()["mfa_enabled"] is True

    # The secret is stored encrypted; the recovery codes only as hashes.
    factor = await TotpFactor.get(user__email="ann@example.com")
    assert factor.secret_encrypted and secret not in factor.secret_encrypted
    stored = await RecoveryCode.filter(user__email="ann@example.com").values_list(
        "code_hash", flat=True
    )
    assert not {c.replace("-", "") for c in recovery} & set(stored)

    first = await login_step(api, "ann@example.com")
    assert first.status_code == 200, first.text
    assert first.headers["cache-control"] == "no-store"
    challenge = first.json()
    assert set(challenge) == {"mfa_required", "mfa_token", "methods", "expires_in"}
    assert challenge["mfa_required"] is True
    assert challenge["methods"] == ["totp", "recovery_code"]
    assert challenge["expires_in"] == 300
    assert "set-cookie" not in first.headers

    # The code confirm used (previous step) is spent, like every earlier one.
    replayed = await second_step(api, challenge["mfa_token"], code=code(secret, -1))
    assert_error(replayed, 401, "AUTH_INVALID_MFA_CODE")
    done = await second_step(api, challenge["mfa_token"], code=code(secret, 0))
    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    signed_in = done.json()
    assert set(signed_in) == {"access_token", "refresh_token", "token_type", "expires_in", "user"}
    assert signed_in["user"]["email"] == "ann@example.com"
    assert signed_in["user"]["mfa_enabled"] is True
    me_now = await api.client.get(api.url("/users/me"), headers=bearer(signed_in))
    assert me_now.status_code == 200

    # The token is spent; the code is spent (another login cannot use it again).
    assert_error(
        await second_step(api, challenge["mfa_token"], code=code(secret, 1)),
        401,
        "MFA_TOKEN_INVALID",
    )
    again = await mfa_token_of(api, "ann@example.com")
    assert_error(await second_step(api, again, code=code(secret, 0)), 401, "AUTH_INVALID_MFA_CODE")
    assert (await second_step(api, again, code=code(secret, 1))).status_code == 200


async def test_wrong_codes_and_setup_errors(api: RunningApp) -> None:
    await early_in_a_step()
    tokens = await api.user_with_tokens("bob@example.com")
    me = bearer(tokens)
    not_started = await api.client.post(
        api.url("/users/me/mfa/totp/confirm"),
        json={"code": "123456", "current_password": STRONG_PASSWORD},
        headers=me,
    )
    assert_error(not_started, 409, "MFA_SETUP_NOT_STARTED")
    secret = (await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me)).json()[
        "secret"
    ]
    confirm = api.url("/users/me/mfa/totp/confirm")
    for far in (-2, 2):  # outside the window of one step each side
        wrong = await api.client.post(
            confirm,
            json={"code": code(secret, far), "current_password": STRONG_PASSWORD},
            headers=me,
        )
        assert assert_error(wrong, 403, "MFA_CODE_INVALID")["errors"][0]["field"] == "code"
    # A stale session needs the password in the body; a fresh one does not (below).
    await age_session(tokens)
    no_password = await api.client.post(confirm, json={"code": code(secret)}, headers=me)
    assert_error(no_password, 403, "REAUTHENTICATION_REQUIRED")
    wrong_password = await api.client.post(
        confirm, json={"code": code(secret), "current_password": OTHER_STRONG_PASSWORD}, headers=me
    )
    assert_error(wrong_password, 403, "AUTH_WRONG_PASSWORD")
    malformed = await api.client.post(
        confirm, json={"code": "12345", "current_password": STRONG_PASSWORD}, headers=me
    )
    assert assert_error(malformed, 422)["errors"][0]["field"] == "code"
    # A restarted setup replaces the pending secret: the first one's codes no longer confirm.
    newer = (await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me)).json()
    stale = await api.client.post(
        confirm, json={"code": code(secret), "current_password": STRONG_PASSWORD}, headers=me
    )
    assert_error(stale, 403, "MFA_CODE_INVALID")
    ok = await api.client.post(
        confirm,
        json={"code": code(newer["secret"]), "current_password": STRONG_PASSWORD},
        headers=me,
    )
    assert ok.status_code == 200, ok.text
    assert_error(
        await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me),
        409,
        "MFA_ALREADY_ENABLED",
    )
    assert_error(
        await api.client.post(
            confirm,
            json={"code": code(newer["secret"], 1), "current_password": STRONG_PASSWORD},
            headers=me,
        ),
        409,
        "MFA_ALREADY_ENABLED",
    )

    token = await mfa_token_of(api, "bob@example.com")
    wrong = await second_step(api, token, code=code(newer["secret"], 2))
    assert assert_error(wrong, 401, "AUTH_INVALID_MFA_CODE")["errors"][0]["field"] == "code"
    both = await second_step(api, token, code="123456", recovery_code="aaaaa-aaaaa")
    assert assert_error(both, 422)["errors"][0]["field"] == "code"
    neither = await second_step(api, token)
    assert assert_error(neither, 422)["errors"][0]["field"] == "code"
    assert_error(await second_step(api, "unknown", code="123456"), 401, "MFA_TOKEN_INVALID")


async def test_expired_setup_and_expired_mfa_token(make_app: Any) -> None:
    api: RunningApp = await make_app(mfa_setup_ttl_s=1, mfa_token_ttl_s=1)
    await early_in_a_step(margin_s=7.0)  # it waits out two 1 s lifetimes
    tokens = await api.user_with_tokens("cat@example.com")
    me = bearer(tokens)
    secret = (await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me)).json()[
        "secret"
    ]
    await asyncio.sleep(1.2)
    late = await api.client.post(
        api.url("/users/me/mfa/totp/confirm"),
        json={"code": code(secret, -1), "current_password": STRONG_PASSWORD},
        headers=me,
    )
    assert_error(late, 409, "MFA_SETUP_NOT_STARTED")
    secret = (await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=me)).json()[
        "secret"
    ]
    confirmed = await api.client.post(
        api.url("/users/me/mfa/totp/confirm"),
        json={"code": code(secret, -1), "current_password": STRONG_PASSWORD},
        headers=me,
    )
    assert confirmed.status_code == 200, confirmed.text
    token = await mfa_token_of(api, "cat@example.com")
    await asyncio.sleep(1.2)
    assert_error(await second_step(api, token, code=code(secret, 0)), 401, "MFA_TOKEN_INVALID")


async def test_a_recovery_code_works_once_and_regenerating_kills_the_old_set(
    api: RunningApp,
) -> None:
    await early_in_a_step()
    account = await enable_mfa(api, "dan@example.com")
    first, second, *_ = account["recovery_codes"]
    token = await mfa_token_of(api, "dan@example.com")
    # Case and hyphens do not matter.
    spelled = first.replace("-", " ").upper()
    done = await second_step(api, token, recovery_code=spelled)
    assert done.status_code == 200, done.text
    await api.settled()
    again = await mfa_token_of(api, "dan@example.com")
    used = await second_step(api, again, recovery_code=first)
    assert assert_error(used, 401, "AUTH_INVALID_MFA_CODE")["errors"][0]["field"] == (
        "recovery_code"
    )
    me = bearer(done.json())
    status = (await api.client.get(api.url("/users/me/mfa"), headers=me)).json()
    assert status["recovery_codes_remaining"] == 9

    regenerate = api.url("/users/me/mfa/recovery-codes")
    # Fresh session: no proof needed; stale: a code (a password alone is not enough).
    await age_session(done.json())
    assert_error(
        await api.client.post(regenerate, json={}, headers=me), 403, "REAUTHENTICATION_REQUIRED"
    )
    only_password = await api.client.post(
        regenerate, json={"current_password": STRONG_PASSWORD}, headers=me
    )
    assert_error(only_password, 403, "REAUTHENTICATION_REQUIRED")
    wrong = await api.client.post(regenerate, json={"code": code(account["secret"], 2)}, headers=me)
    assert_error(wrong, 403, "MFA_CODE_INVALID")
    renewed = await api.client.post(
        regenerate, json={"code": code(account["secret"], 0)}, headers=me
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.headers["cache-control"] == "no-store"
    fresh = renewed.json()["recovery_codes"]
    assert len(fresh) == 10 and not set(fresh) & set(account["recovery_codes"])
    assert_error(await second_step(api, again, recovery_code=second), 401, "AUTH_INVALID_MFA_CODE")
    assert (await second_step(api, again, recovery_code=fresh[0])).status_code == 200


async def test_disable_needs_both_proofs_and_mails_the_account(api: RunningApp) -> None:
    await early_in_a_step()
    account = await enable_mfa(api, "eve@example.com")
    me = bearer(account)
    disable = api.url("/users/me/mfa/disable")
    secret = account["secret"]
    no_code = await api.client.post(disable, json={"current_password": STRONG_PASSWORD}, headers=me)
    assert [e["field"] for e in assert_error(no_code, 422)["errors"]] == ["code"]
    nothing = await api.client.post(disable, json={}, headers=me)
    assert [e["field"] for e in assert_error(nothing, 422)["errors"]] == [
        "current_password",
        "code",
    ]
    wrong_password = await api.client.post(
        disable, json={"current_password": OTHER_STRONG_PASSWORD, "code": code(secret)}, headers=me
    )
    assert_error(wrong_password, 403, "AUTH_WRONG_PASSWORD")
    wrong_code = await api.client.post(
        disable, json={"current_password": STRONG_PASSWORD, "code": code(secret, 2)}, headers=me
    )
    assert_error(wrong_code, 403, "MFA_CODE_INVALID")
    done = await api.client.post(
        disable, json={"current_password": STRONG_PASSWORD, "code": code(secret)}, headers=me
    )
    assert done.status_code == 200, done.text
    await api.settled()
    assert [m.email for m in api.mailer.messages("mfa_disabled")] == ["eve@example.com"]
    assert not await TotpFactor.filter(user__email="eve@example.com").exists()
    assert not await RecoveryCode.filter(user__email="eve@example.com").exists()
    status = (await api.client.get(api.url("/users/me/mfa"), headers=me)).json()
    assert status["enabled"] is False
    assert_error(
        await api.client.post(
            disable, json={"current_password": STRONG_PASSWORD, "code": code(secret, 1)}, headers=me
        ),
        409,
        "MFA_NOT_ENABLED",
    )
    # A login is one step again.
    signed_in = await api.login("eve@example.com")
    assert signed_in["user"]["mfa_enabled"] is False


async def test_the_admin_resets_a_users_mfa(make_app: Any) -> None:
    api: RunningApp = await make_app(
        first_superuser_email=ROOT_EMAIL, first_superuser_password=STRONG_PASSWORD
    )
    await early_in_a_step()
    account = await enable_mfa(api, "fay@example.com")
    root = await api.login(ROOT_EMAIL)
    reset = api.url(f"/admin/users/{account['user']['id']}/mfa/reset")
    assert_error(await api.client.post(reset, headers=bearer(account)), 403, "PERMISSION_DENIED")
    own = api.url(f"/admin/users/{root['user']['id']}/mfa/reset")
    assert_error(await api.client.post(own, headers=bearer(root)), 403, "CANNOT_TARGET_SELF")
    missing = api.url("/admin/users/00000000-0000-4000-8000-000000000000/mfa/reset")
    assert_error(await api.client.post(missing, headers=bearer(root)), 404, "NOT_FOUND")
    pending = await mfa_token_of(api, "fay@example.com")

    done = await api.client.post(reset, headers=bearer(root))
    assert done.status_code == 200, done.text
    assert done.json()["user"]["mfa_enabled"] is False
    await api.settled()
    assert [m.email for m in api.mailer.messages("mfa_disabled")] == ["fay@example.com"]
    # Every session of the user is revoked, and a pending second step dies too.
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(account)), 401)
    assert_error(
        await second_step(api, pending, code=code(account["secret"])), 401, "MFA_TOKEN_INVALID"
    )
    assert (await api.login("fay@example.com"))["user"]["mfa_enabled"] is False
    assert_error(await api.client.post(reset, headers=bearer(root)), 409, "MFA_NOT_ENABLED")


async def test_the_mfa_token_is_bound_to_the_device(api: RunningApp) -> None:
    await early_in_a_step()
    account = await enable_mfa(api, "gus@example.com")
    secret = account["secret"]
    token = await mfa_token_of(api, "gus@example.com", **{"X-Device-Id": "phone-1"})
    elsewhere = await second_step(
        api, token, code=code(secret), headers={"X-Device-Id": "laptop-2"}
    )
    assert_error(elsewhere, 401, "MFA_TOKEN_INVALID")
    no_id = await second_step(api, token, code=code(secret))
    assert_error(no_id, 401, "MFA_TOKEN_INVALID")
    same = await second_step(api, token, code=code(secret), headers={"X-Device-Id": "phone-1"})
    assert same.status_code == 200, same.text

    # Without X-Device-Id: the User-Agent (and the IP) of the password step.
    browser = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}
    token = await mfa_token_of(api, "gus@example.com", **browser)
    other_agent = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0"}
    assert_error(
        await second_step(api, token, code=code(secret, 1), headers=other_agent),
        401,
        "MFA_TOKEN_INVALID",
    )
    assert (await second_step(api, token, code=code(secret, 1), headers=browser)).status_code == 200


async def test_the_mfa_token_dies_after_too_many_codes_and_with_a_password_change(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(mfa_max_attempts=2)
    await early_in_a_step()
    account = await enable_mfa(api, "hal@example.com")
    secret = account["secret"]
    token = await mfa_token_of(api, "hal@example.com")
    for _ in range(2):
        assert_error(
            await second_step(api, token, code=code(secret, 2)), 401, "AUTH_INVALID_MFA_CODE"
        )
    assert_error(await second_step(api, token, code=code(secret)), 401, "MFA_TOKEN_INVALID")

    token = await mfa_token_of(api, "hal@example.com")
    changed = await api.client.patch(
        api.url("/users/me/password"),
        json={"current_password": STRONG_PASSWORD, "new_password": OTHER_STRONG_PASSWORD},
        headers=bearer(account),
    )
    assert changed.status_code == 200, changed.text
    assert_error(await second_step(api, token, code=code(secret)), 401, "MFA_TOKEN_INVALID")
    assert await MfaChallenge.filter(user__email="hal@example.com").count() == 2


async def test_codes_count_toward_the_lockout_and_only_the_second_factor_clears_it(
    make_app: Any,
) -> None:
    api: RunningApp = await make_app(lockout_enabled=True, lockout_max_failures=3)
    await early_in_a_step()
    account = await enable_mfa(api, "ivy@example.com")
    secret = account["secret"]
    token = await mfa_token_of(api, "ivy@example.com")  # attempt 1 (the password was right)
    assert_error(await second_step(api, token, code=code(secret, 2)), 401)  # attempt 2
    assert (await second_step(api, token, code=code(secret))).status_code == 200  # 3: clears
    for _ in range(3):  # three right passwords: counted, never cleared
        await mfa_token_of(api, "ivy@example.com")
    assert_error(await login_step(api, "ivy@example.com"), 429, "ACCOUNT_LOCKED")


async def test_concurrent_guesses_never_exceed_the_lockout(make_app: Any) -> None:
    api: RunningApp = await make_app(
        lockout_enabled=True, lockout_max_failures=5, mfa_max_attempts=100
    )
    await early_in_a_step()
    account = await enable_mfa(api, "jon@example.com")
    token = await mfa_token_of(api, "jon@example.com")  # one of the five attempts
    wrong = code(account["secret"], 3)
    responses = await asyncio.gather(*(second_step(api, token, code=wrong) for _ in range(20)))
    codes = sorted(r.json()["errors"][0]["code"] for r in responses)
    assert codes == ["ACCOUNT_LOCKED"] * 16 + ["AUTH_INVALID_MFA_CODE"] * 4, codes


async def test_one_code_sent_twice_at_once_signs_in_once(api: RunningApp) -> None:
    await early_in_a_step()
    account = await enable_mfa(api, "kim@example.com")
    tokens = [await mfa_token_of(api, "kim@example.com") for _ in range(6)]
    same = code(account["secret"])
    responses = await asyncio.gather(*(second_step(api, t, code=same) for t in tokens))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 5, statuses
    for response in responses:
        if response.status_code == 401:
            assert_error(response, 401, "AUTH_INVALID_MFA_CODE")
    assert await User.filter(email="kim@example.com").count() == 1


async def test_the_oauth_form_login_asks_for_the_second_factor(api: RunningApp) -> None:
    await early_in_a_step()
    await enable_mfa(api, "lea@example.com")
    response = await api.client.post(
        api.url("/auth/login/oauth"),
        data={"username": "lea@example.com", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 200, response.text
    assert response.json()["mfa_required"] is True
    assert "access_token" not in response.json()


async def test_the_second_step_is_rate_limited_per_ip(make_app: Any) -> None:
    api: RunningApp = await make_app(rate_limit_enabled=True, rate_limit_login_mfa="2/minute")
    for _ in range(2):
        assert_error(await second_step(api, "unknown", code="123456"), 401, "MFA_TOKEN_INVALID")
    limited = await second_step(api, "unknown", code="123456")
    assert_error(limited, 429, "RATE_LIMITED")
    assert int(limited.headers["retry-after"]) >= 1


@pytest.mark.parametrize("issuer", ["Acme Inc", None])
async def test_the_issuer_of_the_otpauth_uri(make_app: Any, issuer: str | None) -> None:
    settings = {"mfa_issuer": issuer} if issuer else {"issuer": "example.org"}
    api: RunningApp = await make_app(**settings)
    tokens = await api.user_with_tokens("max@example.com")
    setup = await api.client.post(api.url("/users/me/mfa/totp/setup"), headers=bearer(tokens))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(setup.json()["otpauth_uri"]).query)
    assert query["issuer"] == [issuer or "example.org"]
