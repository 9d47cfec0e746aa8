"""The one pagination helper: query bounds, cursors, totals and their estimate."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from tortoise.expressions import Q

from sanic_auth_sessions import User, UserSession, errors, pagination
from sanic_auth_sessions.pagination import Keyset, KeysetPageQuery, Page, decode_cursor
from sanic_auth_sessions.schemas import validate

from .conftest import DATABASES, RunningApp, bearer
from .helpers import ROOT_EMAIL, assert_error
from .shared_server import empty_tables, shared_server

IN_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the loop of the shared server
ORDER = Keyset(("last_used_at", "id"), descending=True)


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=DATABASES)
async def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningApp]:
    async with shared_server(request.param, tmp_path_factory.mktemp("pages")) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def api(server: RunningApp) -> RunningApp:
    await empty_tables()
    return server


# --- pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        ({}, True),
        ({"page": "3", "limit": "100"}, True),
        ({"limit": "1"}, True),
        ({"limit": "0"}, False),
        ({"limit": "101"}, False),
        ({"page": "0"}, False),
        ({"page": "abc"}, False),
        ({"page": "9" * 30}, False),  # would overflow OFFSET
        ({"cursor": ""}, False),
        ({"cursor": "x" * 2000}, False),
    ],
)
def test_query_bounds(query: dict[str, str], ok: bool) -> None:
    if ok:
        params = validate(KeysetPageQuery, query)
        assert 1 <= params.limit <= 100 and params.page >= 1
    else:
        with pytest.raises(errors.ValidationFailed) as raised:
            validate(KeysetPageQuery, query)
        assert raised.value.errors[0].field in query


def test_defaults_and_shape_of_a_page_past_the_end() -> None:
    params = validate(KeysetPageQuery, {})
    assert (params.page, params.limit, params.cursor) == (1, 20, None)
    page: Page[Any] = Page(items=[], total=41, page=9, limit=20, has_next=False)
    assert page.to_dict(dict) == {
        "data": [],
        "pagination": {
            "total": 41,
            "page": 9,
            "page_size": 20,
            "total_pages": 3,
            "has_next": False,
            "has_prev": True,
        },
    }
    empty: Page[Any] = Page(items=[], total=0, page=1, limit=20, has_next=False, keyset=True)
    assert empty.to_dict(dict)["pagination"]["total_pages"] == 0
    assert empty.to_dict(dict)["pagination"]["next_cursor"] is None


def test_cursor_round_trip_and_tampering() -> None:
    row = UserSession(last_used_at=datetime(2030, 1, 2, 3, 4, 5, 678, timezone.utc), id=uuid4())
    cursor = pagination.encode_cursor(row, ORDER, page=4)
    assert "=" not in cursor
    values, page = decode_cursor(cursor, ORDER, UserSession)
    assert values == [row.last_used_at, row.id] and isinstance(values[1], UUID)
    assert page == 4

    def forged(payload: Any) -> str:
        return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()

    good = {"o": ORDER.tag, "k": ["2030-01-02T03:04:05+00:00", str(uuid4())], "p": 2}
    for bad in [
        "not base64 !",
        forged([1, 2]),
        forged({**good, "o": "+email,id"}),  # made for another ordering
        forged({**good, "k": ["2030-01-02T03:04:05", str(uuid4())]}),  # naive time
        forged({**good, "k": ["yesterday", str(uuid4())]}),
        forged({**good, "k": [good["k"][0], "not-a-uuid"]}),
        forged({**good, "k": [good["k"][0]]}),
        forged({**good, "k": [1, 2]}),
        forged({**good, "p": 1}),
        forged({**good, "p": True}),
        forged({**good, "p": "2"}),
        forged({"o": ORDER.tag}),
    ]:
        with pytest.raises(errors.ValidationFailed) as raised:
            decode_cursor(bad, ORDER, UserSession)
        assert raised.value.errors[0].code == "INVALID_CURSOR"
    by_email = Keyset(("email", "id"), descending=False)
    nul = forged({"o": by_email.tag, "k": ["a\u0000@example.com", str(uuid4())], "p": 2})
    with pytest.raises(errors.ValidationFailed):  # PostgreSQL text cannot hold NUL
        decode_cursor(nul, by_email, User)


def test_keyset_after_is_strictly_after_in_both_directions() -> None:
    when, ident = datetime(2030, 1, 1, tzinfo=timezone.utc), uuid4()
    descending = ORDER.after([when, ident])
    assert descending.join_type == Q.OR and len(descending.children) == 2
    assert descending.children[0].filters == {"last_used_at__lt": when}
    assert descending.children[1].filters == {"last_used_at": when, "id__lt": ident}
    ascending = Keyset(("email", "id"), descending=False)
    assert ascending.after(["a", ident]).children[1].filters == {"email": "a", "id__gt": ident}
    assert ascending.order_by() == ["email", "id"] and ORDER.order_by() == ["-last_used_at", "-id"]


# --- against the database ------------------------------------------------------------------


async def sessions(count: int) -> None:
    user = await User.create(email="many@example.com", hashed_password="x")
    now = datetime.now(timezone.utc)
    for i in range(count):
        await UserSession.create(
            user=user,
            refresh_token_jti=uuid4().hex,
            last_used_at=now - timedelta(minutes=i % 3),  # ties: the id breaks them
            expires_at=now + timedelta(days=1),
        )


@IN_MODULE_LOOP
async def test_keyset_pages_equal_offset_pages_with_ties(api: RunningApp) -> None:
    await sessions(7)
    root = await api.login(ROOT_EMAIL)
    url, headers = api.url("/admin/sessions"), bearer(root)
    offset_ids = []
    for page in (1, 2, 3, 4):
        body = (
            await api.client.get(url, params={"limit": 3, "page": page}, headers=headers)
        ).json()
        offset_ids += [row["id"] for row in body["data"]]
        assert body["pagination"]["total"] == 8 and body["pagination"]["total_pages"] == 3
    assert body["data"] == [] and body["pagination"]["has_prev"] is True
    keyset_ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = (await api.client.get(url, params=params, headers=headers)).json()
        keyset_ids += [row["id"] for row in body["data"]]
        cursor = body["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert keyset_ids == offset_ids and len(set(keyset_ids)) == 8
    assert body["pagination"]["page"] == 3


@IN_MODULE_LOOP
async def test_totals_past_the_exact_limit_are_estimated_on_postgres(
    api: RunningApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pagination, "EXACT_TOTAL_LIMIT", 3)
    await sessions(6)
    root = await api.login(ROOT_EMAIL)
    url = api.url("/admin/sessions")
    response = await api.client.get(url, params={"limit": 2}, headers=bearer(root))
    meta = response.json()["pagination"]
    if api.app.ctx.auth_settings.database_url.startswith("postgres"):
        # The planner's estimate: not exact, but never below what was counted.
        assert meta["total_is_estimate"] is True and meta["total"] >= 4
    else:
        assert (meta["total_is_estimate"], meta["total"]) == (False, 7)
    # A first page that holds every row knows the exact total without counting.
    whole = (await api.client.get(url, headers=bearer(root))).json()["pagination"]
    assert (whole["total"], whole["total_is_estimate"], whole["has_next"]) == (7, False, False)
    small = await api.client.get(
        api.url("/admin/sessions"), params={"user_id": root["user"]["id"]}, headers=bearer(root)
    )
    assert (
        small.json()["pagination"]["total"],
        small.json()["pagination"]["total_is_estimate"],
    ) == (
        1,
        False,
    )
    users = await api.client.get(api.url("/admin/users"), headers=bearer(root))
    assert users.json()["pagination"]["total"] == 2
    past = await api.client.get(api.url("/admin/users"), params={"page": 5}, headers=bearer(root))
    assert past.json()["data"] == [] and past.json()["pagination"]["total_pages"] == 1
    assert_error(
        await api.client.get(api.url("/organizations/me?limit=-1"), headers=bearer(root)), 422
    )
