"""The admin dashboard's numbers (``services/stats.py``) on SQLite and PostgreSQL: the original
project's semantics, in a fixed number of queries whatever the number of users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient

from sanic_auth_sessions.core.models import Membership, Organization, OrganizationRole, User
from sanic_auth_sessions.db.connection import close_database, connection, init_database
from sanic_auth_sessions.services.stats import admin_stats, day_label

from ..conftest import DATABASES, empty_database_url

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=timezone.utc)


@pytest.fixture(params=DATABASES)
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[None]:
    url = await empty_database_url(request.param, tmp_path)
    await init_database(url, generate_schemas=True)
    try:
        yield
    finally:
        await close_database()


async def user(n: int, created: datetime, *, active: bool = True) -> User:
    made = await User.create(email=f"u{n}@stats.test", hashed_password="x", is_active=active)
    await User.filter(id=made.id).update(created_at=created)
    return made


def at(days_ago: int, hour: int = 12) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=0)


def test_day_labels_are_english_month_and_padded_day() -> None:
    assert day_label(date(2026, 11, 5)) == "Nov 05"
    assert day_label(date(2026, 1, 31)) == "Jan 31"


async def test_an_empty_database_gives_full_series_of_zeros(database: None) -> None:
    stats = await admin_stats(NOW)
    assert len(stats.user_growth) == 30 and len(stats.registration_activity) == 14
    assert stats.user_growth[-1].date == "Mar 10" and stats.user_growth[0].date == "Feb 09"
    assert stats.registration_activity[0].date == "Feb 25"
    assert {(d.total_users, d.active_users) for d in stats.user_growth} == {(0, 0)}
    assert {d.registrations for d in stats.registration_activity} == {0}
    assert stats.organization_distribution == []
    assert [(s.name, s.value) for s in stats.user_status] == [("Active", 0), ("Inactive", 0)]


async def test_growth_activity_and_status_follow_the_days(database: None) -> None:
    await user(1, at(100))  # before the window: counted from the first day on
    await user(2, at(40), active=False)
    await user(3, at(29, hour=0))  # the first day of the window, at midnight
    await user(4, at(13, hour=23))  # the first day of the activity
    await user(5, at(13, hour=1), active=False)
    await user(6, at(0, hour=0))  # today, just after midnight
    await user(7, NOW.replace(hour=23, minute=59))  # later today

    stats = await admin_stats(NOW)
    growth = {d.date: (d.total_users, d.active_users) for d in stats.user_growth}
    assert growth["Feb 09"] == (3, 2)  # users 1, 2 (inactive now) and 3
    assert growth["Feb 24"] == (3, 2)
    assert growth["Feb 25"] == (5, 3)
    assert growth["Mar 09"] == (5, 3)
    assert growth["Mar 10"] == (7, 5)
    activity = {d.date: d.registrations for d in stats.registration_activity}
    assert activity["Feb 25"] == 2 and activity["Mar 10"] == 2
    assert sum(activity.values()) == 4
    assert [(s.name, s.value) for s in stats.user_status] == [("Active", 5), ("Inactive", 2)]


async def test_a_day_is_a_utc_day(database: None) -> None:
    # 23:30 at UTC-05:00 on Mar 9 is Mar 10 in UTC, whatever the database's own time zone.
    late = datetime(2026, 3, 9, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    await user(1, late.astimezone(timezone.utc))
    stats = await admin_stats(NOW)
    activity = {d.date: d.registrations for d in stats.registration_activity}
    assert activity["Mar 10"] == 1 and activity["Mar 09"] == 0


async def test_the_six_largest_organizations_ties_by_name(database: None) -> None:
    people = [await user(n, at(50)) for n in range(8)]
    sizes = {"Zeta": 3, "Alpha": 3, "Beta": 5, "Gamma": 1, "Delta": 2, "Eps": 2, "Eta": 1}
    for name, size in sizes.items():
        organization = await Organization.create(name=name, slug=name.lower())
        for person in people[:size]:
            await Membership.create(
                organization=organization, user=person, role=OrganizationRole.MEMBER
            )
    await Organization.create(name="Empty", slug="empty")  # no member: never shown

    stats = await admin_stats(NOW)
    assert [(o.name, o.value) for o in stats.organization_distribution] == [
        ("Beta", 5),
        ("Alpha", 3),
        ("Zeta", 3),
        ("Delta", 2),
        ("Eps", 2),
        ("Eta", 1),
    ]


async def test_three_queries_whatever_the_number_of_users(
    database: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    statements: list[str] = []
    client = type(connection())
    original = client.execute_query_dict

    async def counting(self: BaseDBAsyncClient, query: str, values: Any = None) -> Any:
        statements.append(query)
        return await original(self, query, values)

    monkeypatch.setattr(client, "execute_query_dict", counting)
    await admin_stats(NOW)
    with_none = len(statements)
    for n in range(40):
        await user(n, at(n % 35))
    statements.clear()
    await admin_stats(NOW)
    assert with_none == len(statements) == 3
