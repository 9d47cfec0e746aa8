"""The one pagination helper: query bounds, cursors, totals and their estimate."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise.expressions import Q
from tortoise.models import Model

from sanic_auth_sessions import User, UserSession
from sanic_auth_sessions.core import errors
from sanic_auth_sessions.db import pagination
from sanic_auth_sessions.db.pagination import (
    CursorSigner,
    Keyset,
    KeysetPageQuery,
    Page,
    decode_cursor,
)
from sanic_auth_sessions.http.schemas import validate

from ..conftest import DATABASES, RunningApp, bearer
from ..helpers import ROOT_EMAIL, assert_error
from ..serving import loopback_sync_client
from ..shared_server import empty_tables, shared_server

IN_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the loop of the shared server
ORDER = Keyset("admin.sessions", ("last_used_at", "id"), descending=True)


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

SIGNER = CursorSigner.from_secret("a-test-secret-of-the-cursors-0123456789")


def signed(keyset: Keyset, payload: Any, signer: CursorSigner = SIGNER) -> str:
    """A cursor carrying any JSON ``payload``, signed as the server signs its own."""
    raw = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{raw}.{signer.sign(keyset, raw)}"


def old_format(keyset: Keyset, keys: list[str], page: int = 2) -> str:
    """A cursor as versions before signing made them: base64 JSON, no signature."""
    payload = {"o": keyset.tag, "k": keys, "p": page}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def refused(cursor: str, keyset: Keyset = ORDER, model: type[Model] = UserSession) -> bool:
    try:
        decode_cursor(cursor, keyset, model, SIGNER)
    except errors.ValidationFailed as failed:
        assert [(e.code, e.field) for e in failed.errors] == [("INVALID_CURSOR", "cursor")]
        return True
    return False


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        ({}, True),
        ({"page": "3", "limit": "100"}, True),
        ({"limit": "1"}, True),
        ({"cursor": "x" * pagination.MAX_CURSOR_CHARS}, True),
        ({"limit": "0"}, False),
        ({"limit": "101"}, False),
        ({"page": "0"}, False),
        ({"page": "abc"}, False),
        ({"page": "9" * 30}, False),  # would overflow OFFSET
        ({"cursor": ""}, False),
        ({"cursor": "x" * (pagination.MAX_CURSOR_CHARS + 1)}, False),
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
    assert (page.items, page.total, page.page, page.page_size) == ([], 41, 9, 20)
    assert (page.total_pages, page.has_next, page.has_prev) == (3, False, True)
    empty: Page[Any] = Page(items=[], total=0, page=1, limit=20, has_next=False, keyset=True)
    assert (empty.total_pages, empty.has_prev, empty.next_cursor) == (0, False, None)


def test_cursor_round_trip() -> None:
    when = datetime(2030, 1, 2, 3, 4, 5, 678, timezone(timedelta(hours=5)))
    row = UserSession(last_used_at=when, id=uuid4())
    cursor = pagination.encode_cursor(row, ORDER, 4, SIGNER)
    assert "=" not in cursor and cursor.isascii()
    values, page = decode_cursor(cursor, ORDER, UserSession, SIGNER)
    assert values == [when, row.id] and isinstance(values[1], UUID) and page == 4
    assert values[0].utcoffset() == timedelta(0)  # sort values travel in UTC
    # The longest sort value fits: a 254-character email of 4-byte UTF-8 characters.
    by_email = Keyset("admin.users", ("email", "id"), descending=False)
    longest = User(email="\U0001f600" * 250 + "@x.y", id=uuid4())
    cursor = pagination.encode_cursor(longest, by_email, pagination.MAX_PAGE, SIGNER)
    assert len(cursor) <= pagination.MAX_CURSOR_CHARS
    assert decode_cursor(cursor, by_email, User, SIGNER) == (
        [longest.email, longest.id],
        pagination.MAX_PAGE,
    )


def test_a_cursor_is_bound_to_its_key_list_and_ordering() -> None:
    row = UserSession(last_used_at=datetime(2030, 1, 1, tzinfo=timezone.utc), id=uuid4())
    cursor = pagination.encode_cursor(row, ORDER, 2, SIGNER)
    assert not refused(cursor)
    payload, signature = cursor.split(".")
    for position in range(len(cursor)):  # any altered character
        if cursor[position] == ".":
            continue
        flipped = "A" if cursor[position] != "A" else "B"
        assert refused(cursor[:position] + flipped + cursor[position + 1 :]), position
    assert refused(payload)  # the signature left off
    assert refused(payload + "." + signature[:-1])
    assert refused(cursor + "=")
    same_fields_other_list = Keyset("admin.audit", ORDER.fields, descending=True)
    assert refused(cursor, same_fields_other_list)
    assert refused(cursor, Keyset(ORDER.list_name, ORDER.fields, descending=False))
    other_secret = CursorSigner.from_secret("another-secret-of-the-cursors-0123456789")
    with pytest.raises(errors.ValidationFailed):
        decode_cursor(cursor, ORDER, UserSession, other_secret)


def test_the_cursor_key_is_derived_from_the_secret_not_the_secret_itself() -> None:
    secret = "a-test-secret-of-the-cursors-0123456789"
    signer = CursorSigner.from_secret(secret)
    assert signer.key != secret.encode() and len(signer.key) == 32
    assert CursorSigner.from_secret(secret) == signer  # deterministic: every worker agrees
    assert secret not in repr(signer) and signer.key.hex() not in repr(signer)
    # A signature made with the raw secret as the HMAC key (the JWT's HS256 key) is refused.
    payload = signed(ORDER, [2, "2030-01-01T00:00:00+00:00", str(uuid4())]).split(".")[0]
    message = f"{ORDER.list_name}\n{ORDER.tag}\n{payload}".encode()
    raw_key = hmac.digest(secret.encode(), message, hashlib.sha256)
    forged = payload + "." + base64.urlsafe_b64encode(raw_key).decode().rstrip("=")
    assert refused(forged)


TIME, ID = "2030-01-02T03:04:05+00:00", str(uuid4())


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        {"o": ORDER.tag, "k": [TIME, ID], "p": 2},  # the old format, even when signed
        [2, TIME],  # too few values
        [2, TIME, ID, ID],
        [0, TIME, ID],  # page outside 1..1,000,000
        [1_000_001, TIME, ID],
        [-1, TIME, ID],
        [True, TIME, ID],
        ["2", TIME, ID],
        [2.0, TIME, ID],
        [2, "0001-01-01T00:00:00+14:00", ID],  # before year 1 in UTC
        [2, "9999-12-31T23:59:59-14:00", ID],  # after year 9999 in UTC
        [2, "2030-01-02T03:04:05", ID],  # no offset
        [2, "yesterday", ID],
        [2, 1893553445, ID],  # a number, not a timestamp
        [2, None, ID],
        [2, TIME, "not-a-uuid"],
        [2, TIME, 12345],
        [2, TIME, [ID]],
    ],
)
def test_signed_but_out_of_range_values_are_refused(payload: Any) -> None:
    assert refused(signed(ORDER, payload))


def test_text_sort_values_within_their_column() -> None:
    by_email = Keyset("admin.users", ("email", "id"), descending=False)
    assert not refused(signed(by_email, [2, "a" * 254, ID]), by_email, User)
    for bad in ["a" * 255, "a\u0000@example.com", "\ud800@example.com", 7]:
        assert refused(signed(by_email, [2, bad, ID]), by_email, User), bad
    assert not refused(signed(ORDER, [1_000_000, TIME, ID]))  # the last page number allowed
    by_state = Keyset("admin.sessions", ("is_active", "id"), descending=True)
    with pytest.raises(TypeError):  # a column keyset paging cannot sort by: not the client's
        decode_cursor(signed(by_state, [2, "x", ID]), by_state, UserSession, SIGNER)


@settings(max_examples=300, deadline=None, database=None)
@given(
    cursor=st.text(max_size=200)
    | st.binary(max_size=150).map(lambda b: base64.urlsafe_b64encode(b).decode())
)
def test_no_string_decodes_to_anything_but_a_cursor_error(cursor: str) -> None:
    assert refused(cursor)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
TIMES = st.builds(
    lambda when, minutes: when.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat(),
    st.datetimes(),
    st.integers(-24 * 60 + 1, 24 * 60 - 1),
)


@settings(max_examples=300, deadline=None, database=None)
@given(payload=st.lists(JSON | TIMES, max_size=4) | JSON)
def test_signed_payloads_decode_to_safe_values_or_are_refused(payload: Any) -> None:
    """Even with the key, a cursor gives values the database can take, or a 422."""
    try:
        values, page = decode_cursor(signed(ORDER, payload), ORDER, UserSession, SIGNER)
    except errors.ValidationFailed:
        return
    when, ident = values
    assert 1 <= page <= pagination.MAX_PAGE
    assert when.utcoffset() == timedelta(0) and isinstance(ident, UUID)


def test_keyset_after_is_strictly_after_in_both_directions() -> None:
    when, ident = datetime(2030, 1, 1, tzinfo=timezone.utc), uuid4()
    descending = ORDER.after([when, ident])
    assert descending.join_type == Q.OR and len(descending.children) == 2
    assert descending.children[0].filters == {"last_used_at__lt": when}
    assert descending.children[1].filters == {"last_used_at": when, "id__lt": ident}
    ascending = Keyset("admin.users", ("email", "id"), descending=False)
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
        await api.client.get(api.url("/admin/organizations?limit=-1"), headers=bearer(root)), 422
    )


# --- cursors over HTTP ---------------------------------------------------------------------

USERS_ORDER = Keyset("admin.users", ("created_at", "id"), descending=True)
OUT_OF_RANGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def assert_invalid_cursor(response: Any) -> None:
    body = assert_error(response, 422, "INVALID_CURSOR")
    assert body == {
        "success": False,
        "errors": [
            {"code": "INVALID_CURSOR", "message": body["errors"][0]["message"], "field": "cursor"}
        ],
    }


def flipped(cursor: str, position: int) -> str:
    character = "A" if cursor[position] != "A" else "B"
    return cursor[:position] + character + cursor[position + 1 :]


def server_signer(api: RunningApp) -> CursorSigner:
    return CursorSigner.from_secret(api.app.ctx.auth_settings.secret_key)


@IN_MODULE_LOOP
async def test_altered_foreign_and_out_of_range_cursors_are_422(api: RunningApp) -> None:
    await sessions(3)
    root = await api.login(ROOT_EMAIL)
    headers, signer = bearer(root), server_signer(api)
    users, sessions_url = api.url("/admin/users"), api.url("/admin/sessions")

    async def get(url: str, **params: Any) -> Any:
        return await api.client.get(url, params=params, headers=headers)

    user_cursor = (await get(users, limit=1)).json()["pagination"]["next_cursor"]
    session_cursor = (await get(sessions_url, limit=1)).json()["pagination"]["next_cursor"]
    assert user_cursor and session_cursor
    # The server signs with the key derived from AUTH_SECRET_KEY, not with the secret itself.
    assert decode_cursor(session_cursor, ORDER, UserSession, signer)[1] == 2
    raw_secret = CursorSigner(api.app.ctx.auth_settings.secret_key.encode())
    with pytest.raises(errors.ValidationFailed):
        decode_cursor(session_cursor, ORDER, UserSession, raw_secret)

    bad: dict[str, list[str]] = {users: [session_cursor], sessions_url: [user_cursor]}
    for url, order, real in [
        (users, USERS_ORDER, user_cursor),
        (sessions_url, ORDER, session_cursor),
    ]:
        for when in OUT_OF_RANGE_TIMES:
            bad[url] += [signed(order, [2, when, ID], signer), old_format(order, [when, ID])]
        bad[url] += [
            flipped(real, 3),  # in the sort values
            flipped(real, len(real) - 3),  # in the signature
            real.split(".")[0],  # unsigned
            old_format(order, [TIME, ID]),  # a well-formed cursor of an older version
            signed(order, [0, TIME, ID], signer),
            signed(order, [1_000_001, TIME, ID], signer),
            signed(order, [2, "not a time", ID], signer),
            signed(order, [2, TIME, "not-a-uuid"], signer),
        ]
    for url, cursors in bad.items():
        for cursor in cursors:
            assert_invalid_cursor(await get(url, limit=1, cursor=cursor))
    # The users' cursor is bound to its ordering; filters are not part of it.
    assert_invalid_cursor(await get(users, limit=1, cursor=user_cursor, sort_order="asc"))
    assert_invalid_cursor(await get(users, limit=1, cursor=user_cursor, sort_by="email"))
    filtered = await get(users, limit=1, cursor=user_cursor, is_active="true")
    assert filtered.status_code == 200

    # A real cursor still pages to the end, each user once.
    seen, cursor = [], None
    while True:
        page = (await get(users, limit=1, **({"cursor": cursor} if cursor else {}))).json()
        seen += [row["email"] for row in page["data"]]
        cursor = page["pagination"]["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == ["many@example.com", ROOT_EMAIL]


@IN_MODULE_LOOP
async def test_no_cursor_is_issued_past_the_last_page_number(api: RunningApp) -> None:
    await sessions(3)
    root = await api.login(ROOT_EMAIL)
    before_everything = signed(
        ORDER,
        [pagination.MAX_PAGE, "9000-01-01T00:00:00+00:00", "ffffffff-ffff-ffff-ffff-ffffffffffff"],
        server_signer(api),
    )
    response = await api.client.get(
        api.url("/admin/sessions"),
        params={"limit": 1, "cursor": before_everything},
        headers=bearer(root),
    )
    meta = response.json()["pagination"]
    assert (meta["page"], meta["has_next"], meta["next_cursor"]) == (
        pagination.MAX_PAGE,
        True,
        None,
    )


PRINTABLE = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300)


@IN_MODULE_LOOP
async def test_no_cursor_string_gives_a_server_error(api: RunningApp) -> None:
    """Any text, and any JSON signed with the server's key, is a 200 or a 422; never a 5xx."""
    await sessions(2)
    root = await api.login(ROOT_EMAIL)
    headers, signer = bearer(root), server_signer(api)
    orders = {"/admin/users": USERS_ORDER, "/admin/sessions": ORDER}
    payloads = st.lists(st.integers(-2, 2_000_000) | TIMES | JSON, max_size=4)

    def run() -> None:
        with loopback_sync_client(api.base_url, timeout=30) as client:

            @settings(
                max_examples=int(os.environ.get("FUZZ_MAX_EXAMPLES", "4")) * 25,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(
                path=st.sampled_from(sorted(orders)),
                cursor=PRINTABLE | payloads.map(lambda p: json.dumps(p)),
                sign=st.booleans(),
            )
            def check(path: str, cursor: str, sign: bool) -> None:
                if sign:  # the text as the payload of a cursor signed with the server's key
                    raw = base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")
                    cursor = f"{raw}.{signer.sign(orders[path], raw)}"
                response = client.get(api.url(path), params={"cursor": cursor}, headers=headers)
                assert response.status_code in (200, 422), response.text
                if response.status_code == 422:
                    (error,) = response.json()["errors"]
                    assert error["field"] == "cursor"
                    assert error["code"] in ("INVALID_CURSOR", "VALIDATION_ERROR")

            check()

    await asyncio.to_thread(run)
