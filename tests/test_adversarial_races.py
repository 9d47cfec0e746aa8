"""Races on PostgreSQL, where requests really run at once (SQLite serialises every write).

One server for the module; each test starts from empty tables but for the first superuser.
Outcomes are checked whatever the interleaving, never with timing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from sanic_auth_sessions import Membership, OrganizationRole, User, UserSession

from .conftest import (
    POSTGRES_URL,
    STRONG_PASSWORD,
    RecordingMailer,
    RunningApp,
    bearer,
    build_app,
    empty_database_url,
    empty_postgres,
    requires_postgres,
    start_app,
    stop_app,
)
from .helpers import assert_error, session_id

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
    requires_postgres("races need the real concurrency of PostgreSQL"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[RunningApp]:
    url = await empty_database_url("postgres")
    mailer = RecordingMailer()
    app = build_app(url, mailer=mailer)
    running, handle = await start_app(app, mailer)
    try:
        yield running
    finally:
        await stop_app(running, handle)


@pytest_asyncio.fixture(loop_scope="module")
async def api(server: RunningApp) -> RunningApp:
    assert POSTGRES_URL is not None
    await empty_postgres(POSTGRES_URL)
    return server


async def refresh(api: RunningApp, token: str) -> Any:
    return await api.client.post(api.url("/auth/refresh"), json={"refresh_token": token})


async def test_fifty_concurrent_refreshes_with_one_token_one_wins(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("ann@example.com")
    responses = await asyncio.gather(*(refresh(api, tokens["refresh_token"]) for _ in range(50)))
    winners = [r for r in responses if r.status_code == 200]
    assert len(winners) == 1, sorted(r.status_code for r in responses)
    for response in responses:
        if response.status_code != 200:
            body = assert_error(response, 401)
            assert body["errors"][0]["code"] in ("AUTH_TOKEN_REUSED", "AUTH_INVALID_TOKEN")
    assert await UserSession.filter(user_id=tokens["user"]["id"]).count() == 1
    # The losers presented a token that had been rotated: reuse, so the session is revoked,
    # and even the winner's new tokens are dead.
    assert not (await UserSession.get(id=session_id(tokens))).is_active
    won = winners[0].json()
    assert_error(await refresh(api, won["refresh_token"]), 401)
    assert_error(await api.client.get(api.url("/users/me"), headers=bearer(won)), 401)


async def test_concurrent_logout_and_refresh_leave_the_session_dead(api: RunningApp) -> None:
    await api.register("bob@example.com")
    seen: set[tuple[int, int]] = set()
    for _ in range(10):
        tokens = await api.login("bob@example.com")
        logout, refreshed = await asyncio.gather(
            api.client.post(
                api.url("/auth/logout"),
                json={"refresh_token": tokens["refresh_token"]},
                headers=bearer(tokens),
            ),
            refresh(api, tokens["refresh_token"]),
        )
        seen.add((logout.status_code, refreshed.status_code))
        assert logout.status_code == 200, logout.text
        assert refreshed.status_code in (200, 401), refreshed.text
        assert not (await UserSession.get(id=session_id(tokens))).is_active
        usable = [tokens]
        if refreshed.status_code == 200:
            usable.append(refreshed.json())
        for pair in usable:
            me = await api.client.get(api.url("/users/me"), headers=bearer(pair))
            assert_error(me, 401)
            assert_error(await refresh(api, pair["refresh_token"]), 401)
    # Whatever the interleavings were, they are all among the legitimate ones.
    assert seen <= {(200, 200), (200, 401)}


async def test_twenty_concurrent_registrations_of_one_email_make_one_user(
    api: RunningApp,
) -> None:
    spellings = ["race@example.com", "Race@Example.com", "RACE@EXAMPLE.COM"]
    responses = await asyncio.gather(
        *(
            api.client.post(
                api.url("/auth/register"),
                json={"email": spellings[i % len(spellings)], "password": STRONG_PASSWORD},
            )
            for i in range(20)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 19, statuses
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "EMAIL_TAKEN")
    assert await User.filter(email="race@example.com").count() == 1
    assert await User.all().count() == 1


async def test_ten_accounts_confirming_one_new_address_at_once_one_wins(
    api: RunningApp,
) -> None:
    people = [await api.user_with_tokens(f"claimant{i}@example.com") for i in range(10)]
    for person in people:
        response = await api.client.post(
            api.url("/users/me/email"),
            json={"new_email": "prize@example.com", "current_password": STRONG_PASSWORD},
            headers=bearer(person),
        )
        assert response.status_code == 202, response.text
    await api.app.ctx.auth_manager.wait_for_background()
    tokens = [m.token for m in api.mailer.messages("email_change_confirm", "prize@example.com")]
    assert len(tokens) == 10
    responses = await asyncio.gather(
        *(
            api.client.post(api.url("/auth/email-change/confirm"), json={"token": token})
            for token in tokens
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * 9, statuses
    for response in responses:
        if response.status_code == 409:
            assert_error(response, 409, "EMAIL_TAKEN")
    assert await User.filter(email="prize@example.com").count() == 1
    # The losers' tokens are spent.
    for token, response in zip(tokens, responses, strict=True):
        if response.status_code == 409:
            again = await api.client.post(
                api.url("/auth/email-change/confirm"), json={"token": token}
            )
            assert_error(again, 400, "EMAIL_CHANGE_TOKEN_INVALID")


async def owners_of(org_id: str) -> int:
    return await Membership.filter(organization_id=org_id, role=OrganizationRole.OWNER).count()


async def act_on(api: RunningApp, change: str, member_url: str, actor: dict[str, Any]) -> Any:
    if change == "demote":
        return await api.client.patch(member_url, json={"role": "member"}, headers=bearer(actor))
    return await api.client.delete(member_url, headers=bearer(actor))


@pytest.mark.parametrize("change", ["demote", "remove"])
async def test_two_owners_acting_on_each_other_never_leave_an_organization_ownerless(
    api: RunningApp, change: str
) -> None:
    ann = await api.user_with_tokens("ann@example.com")
    bob = await api.user_with_tokens("bob@example.com")
    seen: list[list[int]] = []
    for round_ in range(10):
        created = await api.client.post(
            api.url("/organizations"), json={"name": f"Race {round_}"}, headers=bearer(ann)
        )
        assert created.status_code == 201, created.text
        org_id = created.json()["id"]
        members = api.url(f"/organizations/{org_id}/members")
        added = await api.client.post(
            members, json={"email": "bob@example.com", "role": "owner"}, headers=bearer(ann)
        )
        assert added.status_code == 201, added.text
        assert await owners_of(org_id) == 2

        ann_acts, bob_acts = await asyncio.gather(
            act_on(api, change, f"{members}/{bob['user']['id']}", ann),
            act_on(api, change, f"{members}/{ann['user']['id']}", bob),
        )
        statuses = sorted((ann_acts.status_code, bob_acts.status_code))
        seen.append(statuses)
        # One wins; the other is refused: no longer an owner (403), no longer a member (404
        # once removed) or the last owner (409).
        assert statuses[0] == 200 and statuses[1] in (403, 404, 409), statuses
        assert_error(ann_acts if ann_acts.status_code != 200 else bob_acts, statuses[1])
        assert await owners_of(org_id) == 1
    assert len(seen) == 10, seen
