"""Which database errors mean "the database is unavailable" (503 ``DATABASE_UNAVAILABLE``).

Decided by the exception's type (and, for PostgreSQL, its SQLSTATE class and who reported
it), never by its message: messages change between versions and languages, and a pooler's
hint that mentions "connection" says nothing about an outage. An exception counts when it, or
an exception it was raised from or while handling, is one of:

- cannot connect, connection lost: ``OSError`` (refused, reset, unreachable, timed out) but
  not a missing file; asyncpg's ``PostgresConnectionError`` (SQLSTATE class 08: connection
  does not exist, failure, rejected …); Tortoise's ``DBConnectionError``;
- the server shutting down, crashed or starting up (57P01, 57P02, 57P03), too many
  connections (53300);
- a protocol violation reported by a pooler (PgBouncer reports its own failures, such as
  "server login has been failing", as 08P01 without a server source location); the same
  SQLSTATE from PostgreSQL itself means client and server disagree (e.g. statements mixed up
  between clients by a pooler in transaction mode with named statements): a 500;
- asyncpg's client-side protocol state errors (``InternalClientError``, "cannot switch to
  state …"), left by a connection lost in the middle of an exchange;
- asyncpg's own ``InterfaceError`` (not its subclasses such as ``DataError``): the state of
  the client's connection forbids the call, as when the connection is closed, was taken back
  by the pool once lost (a transaction's later statements), or the pool is closing;
- SQLite: the file cannot be opened, or a disk I/O error (by ``sqlite_errorcode``,
  Python 3.11+).

Anything else, a ``DuplicatePreparedStatementError`` included, is not an outage.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator

from asyncpg import exceptions as pg
from tortoise.exceptions import DBConnectionError

UNAVAILABLE: tuple[type[BaseException], ...] = (
    DBConnectionError,
    asyncio.TimeoutError,  # the built-in TimeoutError (an OSError) from Python 3.11 on
    pg.PostgresConnectionError,
    pg.AdminShutdownError,
    pg.CrashShutdownError,
    pg.CannotConnectNowError,
    pg.TooManyConnectionsError,
    pg.InternalClientError,
)
SQLITE_UNAVAILABLE = (
    getattr(sqlite3, "SQLITE_CANTOPEN", 14),
    getattr(sqlite3, "SQLITE_IOERR", 10),
)


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what it was raised from or while handling, and so on."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` itself (not its causes) means the database is unavailable."""
    if isinstance(exc, pg.ProtocolViolationError):
        return exc.server_source_function is None  # reported by a pooler, not by PostgreSQL
    if isinstance(exc, UNAVAILABLE):
        return True
    if isinstance(exc, OSError):
        return not isinstance(exc, FileNotFoundError)
    if type(exc) is pg.InterfaceError:  # not its subclasses (bad arguments, configuration)
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return code is not None and code & 0xFF in SQLITE_UNAVAILABLE
    return False


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) means the database did not answer."""
    return any(is_outage(current) for current in causes(exc))
