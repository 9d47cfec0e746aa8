from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import uuid4

from sanic_auth_sessions.core.models import UserSession

from ..conftest import RunningApp, bearer
from ..helpers import SESSION_FIELDS, assert_error, session_id

CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"


async def test_list_my_sessions_marks_the_current_one_and_lists_it_first(
    api: RunningApp,
) -> None:
    await api.register("ann@example.com")
    mac = await api.login("ann@example.com", **{"User-Agent": CHROME_MAC})
    win = await api.login("ann@example.com", **{"User-Agent": FIREFOX_WINDOWS})
    third = await api.login("ann@example.com")
    # The Mac session was used last; the calling one comes first anyway (it is in use now).
    await UserSession.filter(id=session_id(mac)).update(
        last_used_at=datetime.now(timezone.utc) + timedelta(seconds=5)
    )
    await UserSession.filter(id=session_id(win)).update(
        last_used_at=datetime.now(timezone.utc) - timedelta(hours=1)
    )
    response = await api.client.get(api.url("/sessions/me"), headers=bearer(win))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    ids = [session_id(win), session_id(mac), session_id(third)]
    assert [s["id"] for s in body["sessions"]] == ids
    assert all(set(s) == SESSION_FIELDS for s in body["sessions"])
    assert [s["is_current"] for s in body["sessions"]] == [True, False, False]
    assert [s["device_name"] for s in body["sessions"][:2]] == [
        "Firefox on Windows",
        "Chrome on macOS",
    ]
    from_mac = (await api.client.get(api.url("/sessions/me"), headers=bearer(mac))).json()
    assert [(s["id"], s["is_current"]) for s in from_mac["sessions"][:1]] == [
        (session_id(mac), True)
    ]


async def test_list_excludes_revoked_and_expired_and_other_users(api: RunningApp) -> None:
    await api.register("bea@example.com")
    current = await api.login("bea@example.com")
    revoked = await api.login("bea@example.com")
    expired = await api.login("bea@example.com")
    await api.user_with_tokens("cid@example.com")
    await UserSession.filter(id=session_id(revoked)).update(is_active=False)
    await UserSession.filter(id=session_id(expired)).update(
        expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)
    )
    body = (await api.client.get(api.url("/sessions/me"), headers=bearer(current))).json()
    assert [s["id"] for s in body["sessions"]] == [session_id(current)]


async def test_revoking_a_session_kills_its_access_token_at_once(api: RunningApp) -> None:
    await api.register("dee@example.com")
    laptop = await api.login("dee@example.com")
    phone = await api.login("dee@example.com")
    assert (await api.client.get(api.url("/users/me"), headers=bearer(phone))).status_code == 200
    response = await api.client.delete(
        api.url(f"/sessions/{session_id(phone)}"), headers=bearer(laptop)
    )
    assert response.status_code == 200
    dead = await api.client.get(api.url("/users/me"), headers=bearer(phone))
    assert_error(dead, 401, "AUTH_INVALID_TOKEN")
    refresh = await api.client.post(
        api.url("/auth/refresh"), json={"refresh_token": phone["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_revoke_unknown_is_404_and_others_is_403(api: RunningApp) -> None:
    mine = await api.user_with_tokens("eli@example.com")
    theirs = await api.user_with_tokens("flo@example.com")
    unknown = await api.client.delete(api.url(f"/sessions/{uuid4()}"), headers=bearer(mine))
    assert_error(unknown, 404, "NOT_FOUND")
    other = await api.client.delete(
        api.url(f"/sessions/{session_id(theirs)}"), headers=bearer(mine)
    )
    assert_error(other, 403, "PERMISSION_DENIED")
    assert (await api.client.get(api.url("/users/me"), headers=bearer(theirs))).status_code == 200
    not_uuid = await api.client.delete(api.url("/sessions/not-a-uuid"), headers=bearer(mine))
    assert not_uuid.status_code in (404, 405)
    assert not_uuid.json()["success"] is False


async def test_delete_expired_sessions(api: RunningApp) -> None:
    await api.register("gil@example.com")
    current = await api.login("gil@example.com")
    live = await api.login("gil@example.com")
    revoked = await api.login("gil@example.com")
    expired = await api.login("gil@example.com")
    await UserSession.filter(id=session_id(revoked)).update(is_active=False)
    await UserSession.filter(id=session_id(expired)).update(
        expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)
    )
    response = await api.client.delete(api.url("/sessions/me/expired"), headers=bearer(current))
    assert response.status_code == 200
    assert response.json()["deleted"] == 2
    remaining = {str(s.id) for s in await UserSession.all()}
    assert remaining == {session_id(current), session_id(live)}


async def test_delete_expired_never_deletes_the_calling_session(api: RunningApp) -> None:
    tokens = await api.user_with_tokens("hip@example.com")
    response = await api.client.delete(api.url("/sessions/me/expired"), headers=bearer(tokens))
    assert response.json()["deleted"] == 0
    assert await UserSession.filter(id=session_id(tokens)).exists()


async def test_session_use_updates_last_used_at(make_app: object) -> None:
    api: RunningApp = await make_app(session_touch_interval_s=0)  # type: ignore[operator]
    tokens = await api.user_with_tokens("ivo@example.com")
    before = (await UserSession.get(id=session_id(tokens))).last_used_at
    await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    after = (await UserSession.get(id=session_id(tokens))).last_used_at
    assert after > before


async def test_an_expired_session_ends_its_access_token(api: RunningApp) -> None:
    """The session row's expiry counts, even while the access token's own ``exp`` has not come."""
    tokens = await api.user_with_tokens("lapsed@example.com")
    assert (await api.client.get(api.url("/users/me"), headers=bearer(tokens))).status_code == 200
    await UserSession.filter(id=session_id(tokens)).update(
        expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)
    )
    response = await api.client.get(api.url("/users/me"), headers=bearer(tokens))
    assert_error(response, 401, "AUTH_INVALID_TOKEN")
