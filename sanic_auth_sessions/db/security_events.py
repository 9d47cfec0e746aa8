"""The one query of new-device detection, run at a successful login (never per request).

A login is from a new device when the account logged in before (a session row, or a stored
``login.succeeded`` event) and neither a session row nor a stored ``login.succeeded`` event of
the account has the device: the same ``device_id`` when the request sent ``X-Device-Id``,
otherwise the same ``device_name`` and ``ip_address``. Both tables are read through their
``user_id``-first indexes, in one statement of four ``EXISTS``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from uuid import UUID

from sanic_auth_sessions.core.models import SecurityEvent, UserSession
from sanic_auth_sessions.db.connection import connection

LOGIN_EVENT = "login.succeeded"


@dataclass(frozen=True)
class LoginHistory:
    earlier_login: bool  # the account logged in before
    known_device: bool  # ... from this device


@functools.cache
def login_history_sql(dialect: str, match: str) -> str:
    """The statement for ``match``: ``device_id``, ``name_and_ip`` or ``name_without_ip``."""

    def p(n: int) -> str:  # numbered placeholders: both databases reuse them
        return f"${n}" if dialect == "postgres" else f"?{n}"

    device = {
        "device_id": f'"device_id" = {p(2)}',
        "name_and_ip": f'"device_name" = {p(2)} AND "ip_address" = {p(3)}',
        "name_without_ip": f'"device_name" = {p(2)} AND "ip_address" IS NULL',
    }[match]
    sessions = f'SELECT 1 FROM "{UserSession._meta.db_table}" WHERE "user_id" = {p(1)}'
    logins = (
        f'SELECT 1 FROM "{SecurityEvent._meta.db_table}" '
        f'WHERE "user_id" = {p(1)} AND "type" = \'{LOGIN_EVENT}\''
    )
    return (
        f"SELECT (EXISTS ({sessions}) OR EXISTS ({logins})) AS earlier_login, "
        f"(EXISTS ({sessions} AND {device}) OR EXISTS ({logins} AND {device})) AS known_device"
    )


async def login_history(
    user_id: UUID, *, device_id: str | None, device_name: str, ip_address: str | None
) -> LoginHistory:
    """Whether ``user_id`` logged in before, and from this device (see the module)."""
    db = connection()
    params: list[object] = [str(user_id)]
    if device_id is not None:
        match = "device_id"
        params.append(device_id)
    else:
        match = "name_and_ip" if ip_address is not None else "name_without_ip"
        params.append(device_name)
        if ip_address is not None:
            params.append(ip_address)
    sql = login_history_sql(db.capabilities.dialect, match)
    _, rows = await db.execute_query(sql, params)
    row = dict(rows[0])
    return LoginHistory(bool(row["earlier_login"]), bool(row["known_device"]))
