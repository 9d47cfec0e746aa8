"""Command line: ``python -m sanic_auth_sessions <verb>`` (e.g. from cron)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from asyncpg import exceptions as pg
from tortoise.exceptions import BaseORMException

from sanic_auth_sessions.core.config import DEFAULTS, AuthSettings
from sanic_auth_sessions.core.emails import normalize_email
from sanic_auth_sessions.core.errors import AuthSessionsError
from sanic_auth_sessions.core.passwords import hasher_for
from sanic_auth_sessions.core.tokens import generate_key_pair, public_jwk
from sanic_auth_sessions.db.cleanup import delete_stale_rows
from sanic_auth_sessions.db.connection import close_database, init_database
from sanic_auth_sessions.db.migrate import (
    MigrationError,
    all_versions,
    apply,
    downgrade,
    generate,
    status,
)
from sanic_auth_sessions.services.mailer import ConsoleMailer
from sanic_auth_sessions.services.manager import UserManager

# Reported as "Error: …" with exit status 2 rather than a traceback.
KEY_ALGORITHMS = ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")
COMMAND_ERRORS = (
    MigrationError,
    OSError,
    BaseORMException,
    pg.PostgresError,
    pg.InterfaceError,
    pg.InternalClientError,
)


def database_url(given: str | None, *, schema_work: bool = False) -> str:
    """``given``, else the environment's URL; for schema work the direct migrations URL first."""
    names = ["AUTH_DATABASE_URL", "DATABASE_URL"]
    if schema_work:
        names.insert(0, "AUTH_MIGRATIONS_DATABASE_URL")
    url = given or next((os.environ[name] for name in names if os.environ.get(name)), None)
    if not url:
        raise SystemExit("No database: pass --database-url or set AUTH_DATABASE_URL.")
    return url


async def cleanup_sessions(
    url: str,
    audit_window_s: int,
    batch_size: int,
    audit_retention_s: int = DEFAULTS["AUDIT_RETENTION_S"],
) -> str:
    # No named prepared statements: right through a transaction-mode pooler too.
    await init_database(url, generate_schemas=False, named_statements=False)
    try:
        result = await delete_stale_rows(
            audit_window_s, batch_size=batch_size, audit_retention_s=audit_retention_s
        )
    finally:
        await close_database()
    done = (
        f"Deleted {result.sessions_deleted} sessions, "
        f"{result.reset_tokens_deleted} password reset tokens and "
        f"{result.security_events_deleted} security events."
    )
    if result.skipped:
        done += " Stopped: another worker or host is cleaning up."
    return done


async def run_migrate(args: argparse.Namespace) -> int:
    url = database_url(args.database_url, schema_work=True)
    if args.action in ("generate", "auto"):
        created = await generate(url, args.message)
        print(f"Created {created}." if created else "No model changes: nothing generated.")
        if args.action == "generate":
            return 0
    if args.action in ("apply", "auto"):
        applied = await apply(url)
        print(f"Applied {', '.join(applied)}." if applied else "Already up to date.")
        return 0
    if args.action == "downgrade":
        undone = await downgrade(url, args.to)
        print(f"Downgraded {', '.join(undone)}." if undone else "Nothing after that version.")
        return 0
    state = await status(url)
    if args.action == "current":
        print(state.applied[-1] if state.applied else "No migration applied.")
        return 0
    if args.action == "list":
        for version in all_versions(url):
            print(f"[{'x' if version in state.applied else ' '}] {version}")
        return 0
    # check
    if state.up_to_date:
        print("Database reachable and up to date.")
        return 0
    print(f"Database is behind: {len(state.pending)} pending ({', '.join(state.pending)}).")
    return 1


async def create_superuser(url: str, email: str, password: str | None) -> str:
    """Create ``email`` as a superuser, or promote and reactivate that account."""
    env = {
        key: os.environ[f"AUTH_{key.upper()}"]
        for key in (
            "password_hasher",
            "bcrypt_rounds",
            "argon2_memory_kib",
            "argon2_time_cost",
            "argon2_parallelism",
            "password_min_length",
            "password_min_score",
        )
        if f"AUTH_{key.upper()}" in os.environ
    }
    settings = AuthSettings.from_defaults(environment="development", **env)
    hasher = hasher_for(settings, 1)
    await init_database(url, generate_schemas=False)
    try:
        manager = UserManager(settings, hasher=hasher, mailer=ConsoleMailer())
        created = await manager.make_superuser(email, password)
    finally:
        hasher.close()
        await close_database()
    done = "Created" if created else "Promoted and reactivated"
    return f"{done} the superuser {normalize_email(email)}."


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    # ``--database-url`` is accepted anywhere: before the verb, between verb and action, after.
    url_option = argparse.ArgumentParser(add_help=False)
    url_option.add_argument(
        "--database-url",
        default=argparse.SUPPRESS,
        help="default: $AUTH_DATABASE_URL or $DATABASE_URL (for migrate: "
        "$AUTH_MIGRATIONS_DATABASE_URL first)",
    )
    parser = argparse.ArgumentParser(prog="python -m sanic_auth_sessions")
    parser.add_argument("--database-url", help="the same as after the verb")
    verbs = parser.add_subparsers(dest="verb", required=True)
    cleanup = verbs.add_parser(
        "cleanup-sessions",
        parents=[url_option],
        help="delete sessions revoked or expired before the audit window, spent reset tokens "
        "and security events older than their retention",
    )
    cleanup.add_argument(
        "--audit-window-s",
        type=int,
        default=int(
            os.environ.get("AUTH_SESSION_AUDIT_WINDOW_S", DEFAULTS["SESSION_AUDIT_WINDOW_S"])
        ),
        help="keep revoked/expired sessions this many seconds (default: 30 days)",
    )
    cleanup.add_argument(
        "--audit-retention-s",
        type=positive_int,
        default=int(os.environ.get("AUTH_AUDIT_RETENTION_S", DEFAULTS["AUDIT_RETENTION_S"])),
        help="keep security events this many seconds (default: $AUTH_AUDIT_RETENTION_S or 90 days)",
    )
    cleanup.add_argument(
        "--batch-size",
        type=positive_int,
        default=int(os.environ.get("AUTH_CLEANUP_BATCH_SIZE", DEFAULTS["CLEANUP_BATCH_SIZE"])),
        help="rows deleted per transaction (default: $AUTH_CLEANUP_BATCH_SIZE or 5000)",
    )
    superuser = verbs.add_parser(
        "create-superuser",
        parents=[url_option],
        help="create a superuser, or promote and reactivate an existing account",
    )
    superuser.add_argument("--email", required=True)
    superuser.add_argument(
        "--password",
        help="default: $AUTH_SUPERUSER_PASSWORD, else asked for (an existing account may keep "
        "its password: press Enter)",
    )
    keys = verbs.add_parser(
        "generate-keys",
        help="a new key pair for AUTH_ALGORITHM RS*/ES* (AUTH_SECRET_KEY, AUTH_PUBLIC_KEY)",
    )
    keys.add_argument("--algorithm", default="ES256", choices=KEY_ALGORITHMS)
    keys.add_argument(
        "--out",
        type=Path,
        help="write OUT.pem (the private key, mode 600) and OUT.pub.pem; default: print both",
    )
    migrate = verbs.add_parser(
        "migrate", parents=[url_option], help="migrations of the extension's tables (aerich)"
    )
    actions = migrate.add_subparsers(dest="action", required=True)
    for action, text in (
        ("generate", "write a migration for model changes"),
        ("auto", "generate, then apply"),
    ):
        actions.add_parser(action, parents=[url_option], help=text).add_argument("message")
    actions.add_parser("apply", parents=[url_option], help="apply pending migrations")
    actions.add_parser("current", parents=[url_option], help="print the last applied migration")
    actions.add_parser("list", parents=[url_option], help="list migrations, [x] when applied")
    actions.add_parser("check", parents=[url_option], help="exit 1 unless reachable and up to date")
    back = actions.add_parser("downgrade", parents=[url_option], help="undo the last migration")
    back.add_argument(
        "--to", type=int, help="undo every migration after version N, newest first (-1: all)"
    )
    return parser


def run_create_superuser(args: argparse.Namespace) -> int:
    url = database_url(args.database_url)
    password = args.password or os.environ.get("AUTH_SUPERUSER_PASSWORD")
    if password is None and sys.stdin.isatty():
        password = getpass.getpass("Password (Enter: keep an existing account's): ") or None
    try:
        print(asyncio.run(create_superuser(url, args.email, password)))
    except AuthSessionsError as exc:
        details = "; ".join(detail.message for detail in exc.details)
        print(f"Error: {details}", file=sys.stderr)
        return 2
    return 0


def run_generate_keys(args: argparse.Namespace) -> int:
    private_pem, public_pem = generate_key_pair(args.algorithm)
    kid = public_jwk(public_pem, args.algorithm)["kid"]
    if args.out is None:
        print(private_pem + public_pem, end="")
        print(f"kid: {kid}", file=sys.stderr)
        return 0
    private_path = args.out.with_name(args.out.name + ".pem")
    public_path = args.out.with_name(args.out.name + ".pub.pem")
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as private_file:
        private_file.write(private_pem)
    public_path.write_text(public_pem)
    print(
        f"Wrote {private_path} (AUTH_SECRET_KEY) and {public_path} (AUTH_PUBLIC_KEY) for "
        f"AUTH_ALGORITHM={args.algorithm}; kid {kid}. On rotation, move the old public key to "
        "AUTH_VERIFICATION_KEYS until a refresh lifetime has passed."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.verb == "create-superuser":
        return run_create_superuser(args)
    if args.verb == "generate-keys":
        try:
            return run_generate_keys(args)
        except FileExistsError as exc:
            print(f"Error: {exc.filename} exists; not overwritten.", file=sys.stderr)
            return 2
    try:
        if args.verb == "cleanup-sessions":
            url = database_url(args.database_url)
            cleanup = cleanup_sessions(
                url, args.audit_window_s, args.batch_size, args.audit_retention_s
            )
            print(asyncio.run(cleanup))
            return 0
        return asyncio.run(run_migrate(args))
    except COMMAND_ERRORS as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
