"""Command line: ``python -m sanic_auth_sessions <verb>`` (e.g. from cron)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from .cleanup import delete_stale_rows
from .config import DEFAULTS
from .database import close_database, init_database


def database_url(given: str | None) -> str:
    url = given or os.environ.get("AUTH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("No database: pass --database-url or set AUTH_DATABASE_URL.")
    return url


async def cleanup_sessions(url: str, audit_window_s: int) -> str:
    await init_database(url, generate_schemas=False)
    try:
        result = await delete_stale_rows(audit_window_s)
    finally:
        await close_database()
    return (
        f"Deleted {result.sessions_deleted} sessions and "
        f"{result.reset_tokens_deleted} password reset tokens."
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sanic_auth_sessions")
    verbs = parser.add_subparsers(dest="verb", required=True)
    cleanup = verbs.add_parser(
        "cleanup-sessions",
        help="delete sessions revoked or expired before the audit window, and spent reset tokens",
    )
    cleanup.add_argument("--database-url", help="default: $AUTH_DATABASE_URL or $DATABASE_URL")
    cleanup.add_argument(
        "--audit-window-s",
        type=int,
        default=int(
            os.environ.get("AUTH_SESSION_AUDIT_WINDOW_S", DEFAULTS["SESSION_AUDIT_WINDOW_S"])
        ),
        help="keep revoked/expired sessions this many seconds (default: 30 days)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "cleanup-sessions":
        print(asyncio.run(cleanup_sessions(database_url(args.database_url), args.audit_window_s)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
