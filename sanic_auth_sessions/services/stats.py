"""The admin dashboard's numbers (``GET /admin/stats``), as the original project's charts read them.

Days are UTC calendar days, oldest first, the last one today, labelled ``"Nov 05"`` (English
month, zero-padded day). A day's ``total_users`` are the users created before its end and its
``active_users`` those of them active *now*; ``registrations`` are the users created that day.
Three grouped queries, whatever the number of users.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from sanic_auth_sessions.db import stats as counts

GROWTH_DAYS = 30
ACTIVITY_DAYS = 14
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class GrowthDay:
    date: str
    total_users: int
    active_users: int


@dataclass(frozen=True)
class NamedValue:
    name: str
    value: int


@dataclass(frozen=True)
class RegistrationDay:
    date: str
    registrations: int


@dataclass(frozen=True)
class AdminStats:
    user_growth: list[GrowthDay]
    organization_distribution: list[NamedValue]
    registration_activity: list[RegistrationDay]
    user_status: list[NamedValue]


def day_label(day: date) -> str:
    """``strftime("%b %d")`` in the C locale, whatever the process's locale."""
    return f"{MONTHS[day.month - 1]} {day.day:02d}"


async def admin_stats(now: datetime | None = None) -> AdminStats:
    today = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).date()
    days = [today - timedelta(days=back) for back in range(GROWTH_DAYS - 1, -1, -1)]
    window_start = datetime.combine(days[0], time.min, tzinfo=timezone.utc)

    before = await counts.users_before(window_start)
    per_day = await counts.users_by_day(window_start)
    largest = await counts.largest_organizations()

    empty = counts.UserCounts(0, 0)
    growth: list[GrowthDay] = []
    total, active = before.total, before.active
    for day in days:
        created = per_day.get(day, empty)
        total += created.total
        active += created.active
        growth.append(GrowthDay(day_label(day), total, active))
    # Users created after today's end (clocks apart) still count in the status.
    later = sum(c.total for d, c in per_day.items() if d > today)
    later_active = sum(c.active for d, c in per_day.items() if d > today)
    all_users, all_active = total + later, active + later_active
    return AdminStats(
        user_growth=growth,
        organization_distribution=[NamedValue(o.name, o.members) for o in largest],
        registration_activity=[
            RegistrationDay(day_label(day), per_day.get(day, empty).total)
            for day in days[-ACTIVITY_DAYS:]
        ],
        user_status=[
            NamedValue("Active", all_active),
            NamedValue("Inactive", all_users - all_active),
        ],
    )
