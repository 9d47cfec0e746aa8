"""One pagination helper for every list of the API.

Every list takes ``page`` (from 1) and ``limit`` (1..100, default 20; outside is 422) and answers
``{"data": [...], "pagination": {"total", "page", "page_size", "total_pages", "has_next",
"has_prev"}}``. A page past the end has an empty ``data`` and the right totals. ``has_next`` is
exact: one row more than asked is fetched. When an offset page is the last one (no next row),
its offset plus its rows is the total, and no count query runs.

Lists that grow without bound (``/admin/users``, ``/admin/sessions``) are keyset lists
(:func:`paginate_keyset`): they also take ``cursor`` and answer ``next_cursor`` (``null`` on the
last page) and ``total_is_estimate``. A :class:`Keyset` is one list's ordering: its name, sort
fields ending with the id, and direction. A cursor pages with ``WHERE (sort, id) < (last
sort, last id)`` on an index, at any depth, instead of ``OFFSET``; when both are sent,
``cursor`` wins over ``page``.

Cursors are opaque to clients and signed: ``<payload>.<signature>``, the payload URL-safe
base64 of the JSON ``[next page, sort values of the last row..., id]``, the signature
HMAC-SHA256 over the list's name, its ordering and the payload, with a key derived from
``AUTH_SECRET_KEY`` by HKDF-SHA256 and its own label (:class:`CursorSigner`; never the token
key). A cursor that was altered, is not ours (the unsigned ones of earlier versions
included) or belongs to another list or ordering is 422 ``INVALID_CURSOR`` before anything
is parsed. So is one whose values are out of range, even correctly signed (defence in depth):
page outside 1..:data:`MAX_PAGE`; a timestamp without offset or not representable in UTC
(once converted, every sort value is in Python's and so PostgreSQL's range); text longer
than its column, with NUL or a lone surrogate; an invalid UUID. Filters are not part of the
cursor. No cursor is issued past page :data:`MAX_PAGE`.

Totals of keyset lists are exact up to :data:`EXACT_TOTAL_LIMIT` (1,000) matches: ``COUNT(*)``
over the query limited to that many rows plus one, so counting never reads more. Beyond it,
on PostgreSQL, the total is the larger of the planner's row estimate for the same query
(``EXPLAIN (FORMAT JSON)``, "Plan Rows") and 1,001, and ``total_is_estimate`` is true: an
estimate never claims fewer matches than were counted, and an empty result is an exact 0.
SQLite has no such estimate and serves small deployments: there the total is always the
exact ``COUNT(*)``.

On PostgreSQL the page, the count and the estimate run in one read transaction with
``plan_cache_mode = force_custom_plan`` (see :func:`_planned_with_values`): the package's
prepared statements would otherwise switch to generic plans that ignore a search's term.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Generic, TypeVar
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field
from tortoise import fields
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.db import orm
from sanic_auth_sessions.db.connection import transaction

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_PAGE = 1_000_000  # keeps OFFSET (page - 1) * limit far from integer overflow
# Room for the longest cursor: a 254-character email of 4-byte UTF-8 characters, base64.
MAX_CURSOR_CHARS = 2048
EXACT_TOTAL_LIMIT = 1_000

M = TypeVar("M", bound=Model)
Select = Callable[[QuerySet[M]], QuerySet[M]]


class PageQuery(BaseModel):
    """Query parameters of every list; subclass it to add filters."""

    model_config = ConfigDict(frozen=True)

    page: int = Field(1, ge=1, le=MAX_PAGE)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class KeysetPageQuery(PageQuery):
    cursor: str | None = Field(None, min_length=1, max_length=MAX_CURSOR_CHARS)


@dataclass(frozen=True)
class Keyset:
    """An ordering of one list for keyset paging: sort fields ending with a unique one (the id).

    ``list_name`` (e.g. ``"admin.sessions"``) is signed into every cursor with the ordering, so
    a cursor of one list or ordering is refused by every other.
    """

    list_name: str
    fields: tuple[str, ...]
    descending: bool

    @property
    def tag(self) -> str:
        return ("-" if self.descending else "+") + ",".join(self.fields)

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [sign + name for name in self.fields]

    def after(self, values: Sequence[Any]) -> Q:
        """Rows strictly after ``values`` in this ordering."""
        beyond = "lt" if self.descending else "gt"
        alternatives = []
        for i, name in enumerate(self.fields):
            equal = {self.fields[j]: values[j] for j in range(i)}
            alternatives.append(Q(**equal, **{f"{name}__{beyond}": values[i]}))
        return Q(*alternatives, join_type=Q.OR)


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    total: int
    page: int
    limit: int
    has_next: bool
    keyset: bool = False
    next_cursor: str | None = None
    total_is_estimate: bool = False

    @property
    def page_size(self) -> int:
        return self.limit

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit)

    @property
    def has_prev(self) -> bool:
        return self.page > 1


async def paginate(
    query: QuerySet[M],
    params: PageQuery,
    *,
    order_by: Sequence[str],
    select: Select[M] | None = None,
) -> Page[M]:
    """An offset page of ``query`` (filters only); ``select`` adds joins and annotations."""
    rows_query = (select(query) if select else query).order_by(*order_by)
    offset = (params.page - 1) * params.limit
    rows = await rows_query.offset(offset).limit(params.limit + 1)
    items, has_next = rows[: params.limit], len(rows) > params.limit
    total = _total_from_last_page(offset, items, has_next, params.page)
    return Page(
        items=items,
        total=await query.count() if total is None else total,
        page=params.page,
        limit=params.limit,
        has_next=has_next,
    )


def _total_from_last_page(
    offset: int, items: Sequence[Any], has_next: bool, page: int
) -> int | None:
    """The exact total when this offset page is the last one (no count query needed)."""
    if has_next or (not items and page > 1):
        return None
    return offset + len(items)


async def paginate_keyset(
    query: QuerySet[M],
    params: KeysetPageQuery,
    *,
    keyset: Keyset,
    signer: CursorSigner,
    select: Select[M] | None = None,
) -> Page[M]:
    """A page of ``query`` (filters only) after ``params.cursor``, or at ``params.page``."""
    rows_query = (select(query) if select else query).order_by(*keyset.order_by())
    page = params.page
    if params.cursor is not None:
        values, page = decode_cursor(params.cursor, keyset, query.model, signer)
        rows_query = rows_query.filter(keyset.after(values))
    else:
        rows_query = rows_query.offset((page - 1) * params.limit)
    async with _planned_with_values(query.model) as connection:
        if connection is not None:  # querysets keep the connection they were made with
            query, rows_query = query.using_db(connection), rows_query.using_db(connection)
        rows = await rows_query.limit(params.limit + 1)
        items = rows[: params.limit]
        has_next = len(rows) > params.limit
        known_total = (
            _total_from_last_page((page - 1) * params.limit, items, has_next, page)
            if params.cursor is None
            else None
        )
        if known_total is None:
            total, estimated = await count_total(query)
        else:
            total, estimated = known_total, False
    next_cursor = None
    if has_next and page < MAX_PAGE:  # no cursor leads past the last page number allowed
        next_cursor = encode_cursor(items[-1], keyset, page + 1, signer)
    return Page(
        items=items,
        total=total,
        page=page,
        limit=params.limit,
        has_next=has_next,
        keyset=True,
        next_cursor=next_cursor,
        total_is_estimate=estimated,
    )


@asynccontextmanager
async def _planned_with_values(model: type[Model]) -> AsyncIterator[BaseDBAsyncClient | None]:
    """On PostgreSQL, plan the list's statements for their values, never generically.

    The package's statements are prepared once per connection and reused; after five runs
    PostgreSQL may switch to a generic plan that ignores the values. For a search that is
    wrong: ``email LIKE $1`` planned without the pattern takes the trigram index even for a
    two-character term, which no trigram can serve (a scan of the whole index, 30-70 ms
    at 100k users, where the plan for ``'%77%'`` stops after a few thousand rows). So a
    keyset list runs in one read transaction with ``plan_cache_mode = force_custom_plan``:
    yields that transaction's connection (``None`` elsewhere than on PostgreSQL).
    """
    if model._meta.db.capabilities.dialect != "postgres":
        yield None
        return
    async with transaction(model._meta.default_connection) as connection:
        await connection.execute_script("SET LOCAL plan_cache_mode = force_custom_plan")
        yield connection


# --- totals ---------------------------------------------------------------------------------


def _compiled(query: QuerySet[Any]) -> tuple[BaseDBAsyncClient, str, list[Any]]:
    """The connection, SQL and parameters of ``query`` selecting only the primary key."""
    return orm.compiled(query.values_list(query.model._meta.pk_attr, flat=True))


async def count_total(query: QuerySet[Any]) -> tuple[int, bool]:
    """``(total, is_estimate)`` of ``query``: see the module docstring."""
    db, capped_sql, params = _compiled(query.limit(EXACT_TOTAL_LIMIT + 1))
    rows = await db.execute_query_dict(
        f"SELECT COUNT(*) AS n FROM ({capped_sql}) AS capped", params
    )
    capped = int(rows[0]["n"])
    if capped <= EXACT_TOTAL_LIMIT:
        return capped, False
    if db.capabilities.dialect != "postgres":
        return await query.count(), False
    db, sql, params = _compiled(query)
    plan = await db.execute_query_dict(f"EXPLAIN (FORMAT JSON) {sql}", params)
    document = plan[0]["QUERY PLAN"]
    if isinstance(document, str):
        document = json.loads(document)
    estimate = int(document[0]["Plan"]["Plan Rows"])
    return max(estimate, capped), True


# --- cursors --------------------------------------------------------------------------------

CURSOR_KEY_INFO = b"sanic-auth-sessions keyset cursor v1"


@dataclass(frozen=True)
class CursorSigner:
    """Signs and checks cursors with a key of their own (HMAC-SHA256).

    The key is derived from ``AUTH_SECRET_KEY`` with HKDF-SHA256 and the label
    :data:`CURSOR_KEY_INFO`, so a cursor signature never reveals anything about the key that
    signs tokens, and a cursor can never be mistaken for a token.
    """

    key: bytes = field(repr=False)

    @classmethod
    def from_secret(cls, secret: str) -> CursorSigner:
        return _signer_of(secret)

    def sign(self, keyset: Keyset, payload: str) -> str:
        message = f"{keyset.list_name}\n{keyset.tag}\n{payload}".encode()
        digest = hmac.digest(self.key, message, hashlib.sha256)
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@lru_cache(maxsize=8)
def _signer_of(secret: str) -> CursorSigner:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=CURSOR_KEY_INFO)
    return CursorSigner(hkdf.derive(secret.encode()))


def invalid_cursor() -> ValidationFailed:
    message = "The cursor is invalid, was altered, or was made for another list or ordering."
    return ValidationFailed([ErrorDetail("INVALID_CURSOR", message, "cursor")])


def _field_of(model: type[Model], name: str) -> fields.Field[Any]:
    field_ = model._meta.fields_map[name]
    if not isinstance(field_, (fields.DatetimeField, fields.UUIDField, fields.CharField)):
        raise TypeError(f"keyset paging cannot sort by {model.__name__}.{name}")
    return field_


def _cursor_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return str(value)


def _parse_value(field_: fields.Field[Any], text: Any) -> Any:
    """A sort value of the cursor as its column's type, or ``ValueError`` when out of range."""
    if not isinstance(text, str) or len(text) > MAX_CURSOR_CHARS:
        raise ValueError("type")
    if isinstance(field_, fields.DatetimeField):
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError("naive time")
        # In UTC it is representable in Python, hence in PostgreSQL and SQLite too: a year
        # 1 or 9999 with an offset is not (OverflowError), and never reaches the database.
        return value.astimezone(timezone.utc)
    if isinstance(field_, fields.UUIDField):
        return UUID(text)
    # Text: within the column's length, no NUL (PostgreSQL text cannot hold it), and valid
    # UTF-8 (a lone surrogate from JSON's \\ud800 escape is not).
    max_length: int = getattr(field_, "max_length", 0)
    if len(text) > max_length or "\x00" in text:
        raise ValueError("text")
    text.encode()
    return text


def encode_cursor(row: Model, keyset: Keyset, page: int, signer: CursorSigner) -> str:
    """The signed cursor of the rows after ``row``, on page ``page``."""
    values = [_cursor_value(getattr(row, name)) for name in keyset.fields]
    raw = json.dumps([page, *values], ensure_ascii=False, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return f"{payload}.{signer.sign(keyset, payload)}"


def decode_cursor(
    cursor: str, keyset: Keyset, model: type[Model], signer: CursorSigner
) -> tuple[list[Any], int]:
    """``(sort values, page)`` of a cursor of ``keyset``'s list; 422 ``INVALID_CURSOR``."""
    payload, dot, signature = cursor.partition(".")
    if not (dot and cursor.isascii()):  # ours are URL-safe base64 and a dot
        raise invalid_cursor()
    if not hmac.compare_digest(signature, signer.sign(keyset, payload)):
        raise invalid_cursor()
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if not isinstance(decoded, list) or len(decoded) != 1 + len(keyset.fields):
            raise ValueError("shape")
        page, *keys = decoded
        if not isinstance(page, int) or isinstance(page, bool) or not 1 <= page <= MAX_PAGE:
            raise ValueError("page")
        columns = [_field_of(model, name) for name in keyset.fields]
        values = [_parse_value(column, key) for column, key in zip(columns, keys, strict=True)]
    except (ValueError, OverflowError, binascii.Error, UnicodeError, RecursionError):
        raise invalid_cursor() from None
    return values, page
