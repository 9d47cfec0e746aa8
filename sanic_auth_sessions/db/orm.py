"""The few Tortoise internals the package needs, in one place.

Tortoise has no public API for these things, so they are done here and nowhere else;
``tests/test_orm_internals.py`` fails loudly if a Tortoise release changes what they rely on.

- :func:`compiled`: the connection, SQL and parameters a queryset would run with (to wrap the
  SQL in a capped ``COUNT`` or an ``EXPLAIN``). ``QuerySet.sql()`` builds the query but returns
  the text alone; the parameters come from the built query (``QuerySet.query``), and the
  connection the queryset chose (its own ``using_db`` one, or the router's) is private.
- :func:`from_row`: a model instance from a row of raw SQL, loaded as saved, which is what
  Tortoise's executors do with ``Model._init_from_db`` (``Model(**row)`` would be a new, unsaved
  instance).
- :func:`transaction_token` and :func:`transaction_committed`: what a transaction context
  took (the token that restores the task's connection, set once it made the transaction's
  connection the task's) and whether its ``COMMIT`` was answered; ``db.connection.transaction``
  uses them to end a transaction Tortoise leaves half-ended.
"""

from __future__ import annotations

from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient, TransactionContext
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery

M = TypeVar("M", bound=Model)


def compiled(query: AwaitableQuery[Any]) -> tuple[BaseDBAsyncClient, str, list[Any]]:
    """``(connection, sql, params)`` of ``query``, as it would run now."""
    query.sql()  # public: chooses the connection and builds ``query.query``
    sql, params = query.query.get_parameterized_sql()
    db: BaseDBAsyncClient = query._db
    return db, sql, list(params)


def from_row(model: type[M], row: dict[str, Any]) -> M:
    """An instance of ``model`` (saved in the database) from ``row``, keyed by column name."""
    return model._init_from_db(**row)


def transaction_token(context: TransactionContext) -> Any:
    """The token that restores the task's connection, or ``None`` before it was set."""
    return getattr(context, "token", None)


def transaction_committed(client: BaseDBAsyncClient) -> bool:
    """Whether the transaction of ``client`` (a transaction's connection) has ended."""
    return bool(getattr(client, "_finalized", False))
