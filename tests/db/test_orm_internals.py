"""What ``sanic_auth_sessions.db.orm`` relies on in Tortoise, checked against the installed one.

The adapter is the only place that touches Tortoise's private names, but for one switch of the
models' metaclass (``_no_comments``, in ``core/models.py``); if a release renames or changes
them, these tests fail here, by name, rather than a list or every login elsewhere.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import fields
from tortoise import models as tortoise_models
from tortoise.backends.asyncpg.client import TransactionWrapper
from tortoise.backends.base.client import TransactionContextPooled
from tortoise.backends.sqlite.client import SqliteTransactionContext, SqliteTransactionWrapper
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery, QuerySet, ValuesListQuery
from tortoise.transactions import in_transaction

from sanic_auth_sessions.core import models as core_models
from sanic_auth_sessions.core.models import AuthModel, User
from sanic_auth_sessions.db import orm
from sanic_auth_sessions.db.connection import close_database, connection, init_database

PACKAGE = Path(orm.__file__).resolve().parent.parent
PRIVATE_NAMES = (
    "_init_from_db",
    "_choose_db",
    "_make_query",
    "._db",
    "EXECUTOR_CACHE",
    "_finalized",
    "_no_comments",
)
#: The one private name used outside the adapter, and where.
MODELS_SWITCH = ("models.py", "_no_comments")


@pytest_asyncio.fixture
async def database(tmp_path: Path) -> AsyncIterator[None]:
    await init_database(f"sqlite://{tmp_path / 'orm.sqlite3'}", generate_schemas=True)
    try:
        yield
    finally:
        await close_database()


def test_the_private_names_are_still_there() -> None:
    assert issubclass(QuerySet, AwaitableQuery) and issubclass(ValuesListQuery, AwaitableQuery)
    assert "params_inline" in inspect.signature(AwaitableQuery.sql).parameters
    assert "_db" in AwaitableQuery.__slots__ and "query" in AwaitableQuery.__slots__
    assert isinstance(inspect.getattr_static(Model, "_init_from_db"), classmethod)
    parameters = list(inspect.signature(Model._init_from_db).parameters.values())
    assert [p.kind for p in parameters] == [inspect.Parameter.VAR_KEYWORD]
    for context in (TransactionContextPooled, SqliteTransactionContext):
        assert "token" in context.__slots__
        source = inspect.getsource(context)
        assert "self.token = " in source and "reset(self.token)" in source
    for wrapper in (TransactionWrapper, SqliteTransactionWrapper):  # set once COMMIT answered
        assert "self._finalized = True" in inspect.getsource(wrapper.commit)


def test_only_the_adapter_uses_them() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.name == "orm.py" or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        used = [
            name for name in PRIVATE_NAMES if name in text and (path.name, name) != MODELS_SWITCH
        ]
        assert not used, f"{path.relative_to(PACKAGE)} uses Tortoise internals {used}"


def test_the_models_are_created_without_reading_their_source(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tortoise reads a model's source for ``#:`` comments unless the class says
    ``_no_comments``; the extension's base model says it for each of its models."""
    read: list[type] = []

    def reading(cls: type) -> dict[str, str]:
        read.append(cls)
        return {}

    monkeypatch.setattr(tortoise_models, "_get_comments", reading)

    class Plain(Model):
        name = fields.CharField(max_length=10)

        class Meta:
            app = "probe"

    class Ours(AuthModel):
        name = fields.CharField(max_length=10)

        class Meta:
            app = "probe"

    assert read == [Plain] and Ours not in read
    ours = [
        value
        for value in vars(core_models).values()
        if isinstance(value, type) and issubclass(value, AuthModel) and value is not AuthModel
    ]
    assert len(ours) >= 15
    assert all(model.__dict__.get("_no_comments") is True for model in ours)
    # No comment that Tortoise would have made a field's description of.
    assert not re.search(r"^\s*#:", inspect.getsource(core_models), flags=re.MULTILINE)


async def test_compiled_gives_the_connection_sql_and_params_the_query_runs_with(
    database: None,
) -> None:
    for index in range(5):
        await User.create(email=f"user{index}@example.com", hashed_password="x")
    query: ValuesListQuery[bool] = User.filter(email__gt="user1@example.com").values_list(
        "id", flat=True
    )
    db, sql, params = orm.compiled(query)
    assert db is connection()
    assert "?" in sql and params == ["user1@example.com"]
    rows = await db.execute_query_dict(sql, params)
    expected = {str(user_id) for user_id in await query}
    assert len(expected) == 3 and {str(*row.values()) for row in rows} == expected

    async with in_transaction() as tx:
        chosen, _, _ = orm.compiled(User.all().using_db(tx).values_list("id", flat=True))
        assert chosen is tx


async def test_from_row_loads_a_saved_instance(database: None) -> None:
    created = await User.create(email="ann@example.com", hashed_password="x", first_name="Ann")
    _, rows = await connection().execute_query('SELECT * FROM "auth_users"')
    loaded = orm.from_row(User, dict(rows[0]))
    assert isinstance(loaded, User)
    assert (loaded.id, loaded.email, loaded.first_name) == (
        created.id,
        created.email,
        created.first_name,
    )
    assert loaded.is_active is True and loaded.created_at == created.created_at
    loaded.first_name = "Anne"
    await loaded.save()  # an UPDATE: the instance is known to be in the database
    assert await User.all().count() == 1
    assert (await User.get(id=created.id)).first_name == "Anne"
