"""The hand-written authentication query and the backends it runs on."""

from __future__ import annotations

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.sqlite.client import SqliteClient

from sanic_auth_sessions.core.config import ConfigurationError
from sanic_auth_sessions.db.connection import session_with_user_sql


def test_placeholders_follow_the_backend() -> None:
    assert 's."id" = ? AND s."user_id" = ?' in session_with_user_sql(SqliteClient)
    # asyncpg is an optional import of tortoise's: take its client from the module path.
    from tortoise.backends.asyncpg.client import AsyncpgDBClient

    assert 's."id" = $1 AND s."user_id" = $2' in session_with_user_sql(AsyncpgDBClient)


# psycopg's placeholder is %s, MySQL's quoting differs: both would break the statement.
PSYCOPG_LIKE = type(
    "PsycopgClient", (BaseDBAsyncClient,), {"__module__": "tortoise.backends.psycopg.client"}
)


@pytest.mark.parametrize("client", [PSYCOPG_LIKE, BaseDBAsyncClient])
def test_other_backends_are_refused_with_a_clear_error(client: type[BaseDBAsyncClient]) -> None:
    with pytest.raises(ConfigurationError, match="asyncpg, or on SQLite"):
        session_with_user_sql(client)
