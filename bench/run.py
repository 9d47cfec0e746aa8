"""``python -m bench``: start the example app (and the ceilings), load it with wrk, print a table.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import database, report
from bench.hashing import verify_rate
from bench.servers import Server, ceiling_app, example_app, http_json
from bench.wrk import INSTALL_HINT, WrkResult, finish_wrk, run_wrk, start_wrk, wrk_path
from sanic_auth_sessions.core.config import DEFAULTS

API = "/api/v1"
SUPERUSER_EMAIL = "bench-admin@bench.example"
SUPERUSER_PASSWORD = "Bench-superuser-passphrase-7f3a9c2e!"
BCRYPT_ROUNDS: int = DEFAULTS["BCRYPT_ROUNDS"]
HASHER_LABELS = {
    "bcrypt": f"bcrypt {BCRYPT_ROUNDS}",
    "argon2id": "argon2id m={ARGON2_MEMORY_KIB},t={ARGON2_TIME_COST},p={ARGON2_PARALLELISM}".format(
        **DEFAULTS
    ),
}
FULL_ROWS = (10_000, 100_000, 1_000_000)
QUICK_ROWS = (10_000,)
PHASES = ("health", "users-me", "login", "refresh", "event-loop", "admin")


@dataclass(frozen=True)
class Profile:
    duration_s: float  # each measured wrk run
    warmup_s: float
    rounds: int  # app/ceiling alternations for /users/me and refresh
    rows: tuple[int, ...]
    admin_duration_s: float
    connections: int = 16  # /users/me and its ceiling
    refresh_connections: int = 8  # one per wrk thread (token chains)


@dataclass
class Suite:
    """One (database, workers) configuration and its servers."""

    label: str
    kind: str  # "postgres" or "sqlite"
    database_url: str
    workers: int
    profile: Profile
    workdir: Path
    phases: frozenset[str]  # of PHASES
    rows: list[report.Row] = field(default_factory=list)
    app: Server | None = None
    ceiling: Server | None = None
    env: dict[str, str] = field(default_factory=dict)  # of both servers
    pooler: str = "none"  # "pgbouncer": PostgreSQL through PgBouncer in transaction mode
    hasher: str = "bcrypt"  # AUTH_PASSWORD_HASHER of the example app

    @property
    def hashing_threads(self) -> int:
        return (os.cpu_count() or 2) * self.workers

    def add(self, figure: str, result: str, **columns: str) -> report.Row:
        row = report.Row(self.label, figure, result, **columns)
        self.rows.append(row)
        print(f"  {figure}: {result} {columns.get('ratio', '')} {columns.get('status', '')}")
        return row

    def rss(self, row: report.Row, server: Server | None = None) -> None:
        server = server or self.app
        if server is not None:
            row.rss_mib = f"{server.rss_mib():.0f}"


def jwt_claim(token: str, claim: str) -> str:
    payload = token.split(".")[1]
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(data[claim])


def login(app: Server) -> dict[str, object]:
    status, body = http_json(
        "POST",
        app.base_url + API + "/auth/login",
        {"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD},
    )
    if status != 200 or not isinstance(body, dict):
        raise RuntimeError(f"login failed: {status} {body}")
    return body


def ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def errors_note(result: WrkResult) -> str:
    bad = result.status_errors + result.errors
    return f" ({bad} errors of {result.requests})" if bad else ""


def median_result(results: list[WrkResult]) -> WrkResult:
    """The run with the median throughput (its latencies go with it)."""
    ordered = sorted(results, key=lambda r: r.ok_rps)
    return ordered[(len(ordered) - 1) // 2]


# --- phases ---------------------------------------------------------------------------------


def phase_health_idle(suite: Suite) -> None:
    assert suite.app is not None
    result = run_wrk(
        suite.app.base_url + "/health",
        script="get.lua",
        duration_s=suite.profile.duration_s,
        connections=1,
    )
    row = suite.add(
        "/health idle p50 / p99 ms",
        f"{ms(result.p50_ms)} / {ms(result.p99_ms)}{errors_note(result)}",
    )
    suite.rss(row)


def phase_users_me(suite: Suite, token: str, user_id: str) -> None:
    assert suite.app is not None and suite.ceiling is not None
    p = suite.profile
    app_url = suite.app.base_url + API + "/users/me"
    ceiling_url = f"{suite.ceiling.base_url}/users/{user_id}"
    env = {"BENCH_AUTH": token}
    apps: list[WrkResult] = []
    ceilings: list[WrkResult] = []
    for _ in range(p.rounds):
        for url, into in ((app_url, apps), (ceiling_url, ceilings)):
            run_wrk(
                url, script="get.lua", duration_s=p.warmup_s, connections=p.connections, env=env
            )
            into.append(
                run_wrk(
                    url,
                    script="get.lua",
                    duration_s=p.duration_s,
                    connections=p.connections,
                    env=env,
                )
            )
    app, ceil = median_result(apps), median_result(ceilings)
    ratio = app.ok_rps / ceil.ok_rps if ceil.ok_rps else 0.0
    row = suite.add(
        "GET /users/me req/s",
        f"{app.ok_rps:.0f}{errors_note(app)}",
        ceiling=f"{ceil.ok_rps:.0f} (PK read){errors_note(ceil)}",
        ratio=f"{ratio:.2f}x",
        target="≥ 0.8x",
        status=report.status(ratio >= 0.8),
    )
    suite.rss(row)
    suite.add(
        "GET /users/me p50 / p99 ms",
        f"{ms(app.p50_ms)} / {ms(app.p99_ms)}",
        ceiling=f"{ms(ceil.p50_ms)} / {ms(ceil.p99_ms)}",
        ratio=f"{app.p50_ms / ceil.p50_ms:.2f}x / {app.p99_ms / ceil.p99_ms:.2f}x"
        if ceil.p50_ms and ceil.p99_ms
        else "",
    )
    suite.rss(
        suite.add("ceiling app RSS after its runs", "", ceiling="(ceiling app)"), suite.ceiling
    )

    # The same with the verified-token cache off: every request checks the JWT signature and
    # claims, as the first request of each token does (shown, not a target).
    uncached_env = {**suite.env, "SANIC_AUTH_ACCESS_TOKEN_CACHE_SIZE": "0"}
    uncached = example_app(uncached_env, suite.workdir, suite.workers, tag="no-token-cache")
    uncached.start()
    try:
        token = str(login(uncached)["access_token"])
        env = {"BENCH_AUTH": token}
        run_wrk(
            uncached.base_url + API + "/users/me",
            script="get.lua",
            duration_s=p.warmup_s,
            connections=p.connections,
            env=env,
        )
        result = run_wrk(
            uncached.base_url + API + "/users/me",
            script="get.lua",
            duration_s=p.duration_s,
            connections=p.connections,
            env=env,
        )
    finally:
        uncached.stop()
    ratio = result.ok_rps / ceil.ok_rps if ceil.ok_rps else 0.0
    suite.add(
        "GET /users/me req/s, token cache off (AUTH_ACCESS_TOKEN_CACHE_SIZE=0)",
        f"{result.ok_rps:.0f}{errors_note(result)}, p50 / p99 {ms(result.p50_ms)} / "
        f"{ms(result.p99_ms)} ms",
        ceiling=f"{ceil.ok_rps:.0f} (PK read, above)",
        ratio=f"{ratio:.2f}x",
        target="(shown)",
    )


def phase_login(suite: Suite) -> None:
    assert suite.app is not None
    p = suite.profile
    threads = suite.hashing_threads
    body = json.dumps({"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD})
    # bcrypt, login, bcrypt, login, …, bcrypt: the ceiling is the mean of the measurements
    # around the login runs, so drift in the machine's load hits both sides alike.
    ceilings = [verify_rate(suite.hasher, threads, p.duration_s)]
    runs: list[WrkResult] = []
    for _ in range(p.rounds):
        runs.append(
            run_wrk(
                suite.app.base_url + API + "/auth/login",
                script="post_json.lua",
                duration_s=p.duration_s,
                connections=threads * 2 + 2,
                timeout_s=30,
                env={"BENCH_BODY": body},
            )
        )
        ceilings.append(verify_rate(suite.hasher, threads, p.duration_s))
    ceiling = sum(ceilings) / len(ceilings)
    result = max(runs, key=lambda r: r.p99_ms)  # the worst p99 of the runs
    ok_rps = sum(r.ok_rps * r.duration_s for r in runs) / sum(r.duration_s for r in runs)
    ratio = ok_rps / ceiling if ceiling else 0.0
    row = suite.add(
        "POST /auth/login req/s",
        f"{ok_rps:.2f} (p99 {ms(result.p99_ms)} ms){errors_note(result)}",
        ceiling=f"{ceiling:.2f} ({HASHER_LABELS[suite.hasher]}, {threads} threads)",
        ratio=f"{ratio:.2f}x",
        target="≥ 0.9x",
        status=report.status(ratio >= 0.9),
    )
    suite.rss(row)


def phase_refresh(suite: Suite) -> None:
    assert suite.app is not None and suite.ceiling is not None
    p = suite.profile
    chains = p.refresh_connections
    apps: list[WrkResult] = []
    ceilings: list[WrkResult] = []
    for round_no in range(p.rounds):
        # Fresh sessions each round: one token chain (one session) per wrk thread.
        logins = [login(suite.app) for _ in range(chains)]
        tokens = suite.workdir / f"refresh-tokens-{suite.kind}-{suite.workers}-{round_no}.txt"
        tokens.write_text("".join(f"{b['refresh_token']}\n" for b in logins))
        ids = suite.workdir / f"session-ids-{suite.kind}-{suite.workers}-{round_no}.txt"
        ids.write_text("".join(f"{jwt_claim(str(b['access_token']), 'sid')}\n" for b in logins))
        apps.append(
            run_wrk(
                suite.app.base_url + API + "/auth/refresh",
                script="refresh_chain.lua",
                duration_s=p.duration_s,
                connections=chains,
                threads=chains,
                env={"BENCH_TOKENS_FILE": str(tokens), "BENCH_PATH": API + "/auth/refresh"},
            )
        )
        ceilings.append(
            run_wrk(
                suite.ceiling.base_url + "/",
                script="per_thread_path.lua",
                duration_s=p.duration_s,
                connections=chains,
                threads=chains,
                env={
                    "BENCH_IDS_FILE": str(ids),
                    "BENCH_PATH_PREFIX": "/sessions/",
                    "BENCH_PATH_SUFFIX": "/touch",
                },
            )
        )
    app, ceil = median_result(apps), median_result(ceilings)
    ratio = app.ok_rps / ceil.ok_rps if ceil.ok_rps else 0.0
    row = suite.add(
        "POST /auth/refresh req/s, p50 / p99 ms",
        f"{app.ok_rps:.0f}, {ms(app.p50_ms)} / {ms(app.p99_ms)}{errors_note(app)}",
        ceiling=f"{ceil.ok_rps:.0f}, {ms(ceil.p50_ms)} / {ms(ceil.p99_ms)} (PK UPDATE)"
        f"{errors_note(ceil)}",
        ratio=f"{ratio:.2f}x",
        target="(no target)",
    )
    suite.rss(row)


def phase_event_loop(suite: Suite) -> None:
    assert suite.app is not None
    p = suite.profile
    threads = suite.hashing_threads
    body = json.dumps({"email": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD})
    load_s = p.duration_s + 3
    load = start_wrk(
        suite.app.base_url + API + "/auth/login",
        script="post_json.lua",
        duration_s=load_s,
        connections=max(8, threads * 4),
        workdir=suite.workdir,
        timeout_s=30,
        env={"BENCH_BODY": body},
    )
    try:
        time.sleep(1.5)  # let the logins fill the hashing threads and their queue
        health = run_wrk(
            suite.app.base_url + "/health",
            script="get.lua",
            duration_s=p.duration_s,
            connections=1,
        )
    finally:
        logins = finish_wrk(load, load_s)
    row = suite.add(
        "/health p50 / p99 ms while logins saturate hashing",
        f"{ms(health.p50_ms)} / {ms(health.p99_ms)}{errors_note(health)}"
        f" (logins {logins.ok_rps:.2f}/s)",
        target="p99 < 50 ms",
        status=report.status(health.p99_ms < 50),
    )
    suite.rss(row)


# The admin lists' queries: the search terms are parts of the seeded emails
# (bench.database.seeded_email): one user's, every user's, and two characters (too short for
# trigrams; ~4% of the seeded emails contain "77"), two in none, and one in every email.
ADMIN_SEARCHES = {
    "search (1 user)": "?search=user-0000007",
    "search (every user)": "?search=bench.example",
    "search (2 chars)": "?search=77",
    "search (2 chars, none)": "?search=zq",
    "search (1 char)": "?search=e",
}


def phase_admin_lists(suite: Suite) -> None:
    """``/admin/sessions`` and ``/admin/users`` as the tables grow (PostgreSQL)."""
    assert suite.app is not None
    p = suite.profile
    seeder = database.Seeder(suite.database_url)
    for level in p.rows:
        seconds = seeder.seed_to(level)
        total = database.count_sessions(suite.database_url)
        users = database.count_users(suite.database_url)
        print(
            f"  seeded {level:,} sessions in {seconds:.0f} s "
            f"({total:,} rows in auth_sessions, {users:,} in auth_users)"
        )
        token = str(login(suite.app)["access_token"])
        assert seeder.user_ids
        lists = {
            ("sessions", f"{total:,} sessions"): {
                "page 1": "",
                "user_id": f"?user_id={seeder.user_ids[3]}",
                **ADMIN_SEARCHES,
            },
            ("users", f"{users:,} users"): {"page 1": "", **ADMIN_SEARCHES},
        }
        last: report.Row | None = None
        for (path, size), queries in lists.items():
            for name, query in queries.items():
                url = f"{suite.app.base_url}{API}/admin/{path}{query}"
                status, _ = http_json("GET", url, token=token, timeout_s=60)
                if status != 200:
                    raise RuntimeError(f"GET /admin/{path}{query}: {status}")
                result = run_wrk(
                    url,
                    script="get.lua",
                    duration_s=p.admin_duration_s,
                    connections=1,
                    timeout_s=30,
                    env={"BENCH_AUTH": token},
                )
                at_target = level >= 1_000_000
                last = suite.add(
                    f"GET /admin/{path} {name}, {size}: p50 / p95 ms",
                    f"{ms(result.p50_ms)} / {ms(result.p95_ms)}{errors_note(result)}",
                    target="p95 < 50 ms" if at_target else "(p95 < 50 ms at 1M)",
                    status=report.status(result.p95_ms < 50) if at_target else "",
                )
        if last is not None:
            suite.rss(last)


def run_suite(suite: Suite) -> None:
    print(f"\n== {suite.label}")
    env = {
        "DATABASE_URL": suite.database_url,
        "AUTH_SECRET_KEY": secrets.token_urlsafe(48),
        "AUTH_MFA_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "ENVIRONMENT": "production",
        "FIRST_SUPERUSER_EMAIL": SUPERUSER_EMAIL,
        "FIRST_SUPERUSER_PASSWORD": SUPERUSER_PASSWORD,
        "RATE_LIMIT_ENABLED": "false",
    }
    if suite.pooler == "pgbouncer":  # read by the extension through Sanic's SANIC_ prefix
        env["SANIC_AUTH_DATABASE_POOLER"] = "pgbouncer-transaction"
    env["SANIC_AUTH_PASSWORD_HASHER"] = suite.hasher
    # The login phase sends one account's right password from many connections at once: more
    # attempts in flight than the lockout allows, which locks the account (as it should).
    env["SANIC_AUTH_LOCKOUT_ENABLED"] = "false"
    suite.env = env
    suite.app = example_app(env, suite.workdir, suite.workers)
    suite.ceiling = ceiling_app(env, suite.workdir, suite.workers)
    try:
        suite.app.start()  # applies the migrations and creates the superuser
        suite.ceiling.start()
        row = suite.add("RSS at start (example app)", "")
        suite.rss(row)
        app = suite.app
        first = login(app)
        user = first["user"]
        assert isinstance(user, dict)
        phases: list[tuple[str, Callable[[], None]]] = [
            ("health", lambda: phase_health_idle(suite)),
            (
                "users-me",
                lambda: phase_users_me(suite, str(login(app)["access_token"]), str(user["id"])),
            ),
            ("login", lambda: phase_login(suite)),
            ("refresh", lambda: phase_refresh(suite)),
            ("event-loop", lambda: phase_event_loop(suite)),
            ("admin", lambda: phase_admin_lists(suite)),
        ]
        phases = [(name, phase) for name, phase in phases if name in suite.phases]
        for name, phase in phases:
            try:
                phase()
            except Exception as exc:  # one failed phase is reported, the others still run
                traceback.print_exc()
                suite.add(f"{name}: phase failed", f"error: {exc}", status="ERROR")
    except Exception as exc:
        traceback.print_exc()
        suite.add("start", f"error: {exc}", status="ERROR")
    finally:
        for server in (suite.ceiling, suite.app):
            if server is not None:
                server.stop()


@contextlib.contextmanager
def databases(
    kind: str, workdir: Path, info: dict[str, str], pooler: str = "none"
) -> Iterator[Callable[[str], str]]:
    """Yields ``new_database(name) -> url`` for ``kind``; everything is removed at the end.

    With ``pooler="pgbouncer"`` the PostgreSQL URLs go through a throwaway PgBouncer in
    transaction mode, without named prepared statements (``statement_cache_size=0``, which
    the ceiling app's Tortoise reads from the URL too)."""
    if kind == "sqlite":
        yield lambda name: f"sqlite://{workdir / (name + '.sqlite3')}"
        return
    with database.postgres_server(workdir) as server_url, contextlib.ExitStack() as stack:
        info["PostgreSQL"] = database.postgres_version(server_url)
        pooled_url = (
            stack.enter_context(database.pgbouncer(server_url, workdir))
            if pooler == "pgbouncer"
            else None
        )

        def new_database(name: str) -> str:
            url = stack.enter_context(database.postgres_database(server_url, name))
            if pooled_url is None:
                return url
            return f"{pooled_url}/{name}?statement_cache_size=0"

        yield new_database


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the example app against same-run ceilings; prints a table.",
    )
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--workers", default="1", help="comma-separated worker counts, e.g. 1,2 (default 1)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: short phases, 10k rows (~2 minutes)"
    )
    parser.add_argument("--duration", type=float, help="seconds per measured wrk run")
    parser.add_argument(
        "--rows", help="comma-separated session row counts for the admin phase (PostgreSQL)"
    )
    parser.add_argument("--no-admin", action="store_true", help="skip the admin lists phase")
    parser.add_argument(
        "--phases",
        default=",".join(PHASES),
        help=f"comma-separated phases to run (default all: {','.join(PHASES)})",
    )
    parser.add_argument(
        "--pooler",
        choices=("none", "pgbouncer"),
        default="none",
        help="pgbouncer: PostgreSQL through a throwaway PgBouncer in transaction mode "
        "(AUTH_DATABASE_POOLER=pgbouncer-transaction; no admin phase)",
    )
    parser.add_argument(
        "--hasher",
        choices=("bcrypt", "argon2id"),
        default="bcrypt",
        help="AUTH_PASSWORD_HASHER of the example app; the login ceiling is that hasher's "
        "raw verification rate at the default costs",
    )
    parser.add_argument("--output", type=Path, help="also write the markdown report here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (server logs)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if wrk_path() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    quick = bool(args.quick)
    rows = tuple(int(x) for x in args.rows.split(",")) if args.rows else None
    profile = Profile(
        duration_s=args.duration or (3.0 if quick else 10.0),
        warmup_s=1.0 if quick else 2.0,
        rounds=1 if quick else 2,
        rows=rows or (QUICK_ROWS if quick else FULL_ROWS),
        admin_duration_s=args.duration or (3.0 if quick else 8.0),
    )
    workers = [int(x) for x in args.workers.split(",")]
    phases = frozenset(name.strip() for name in args.phases.split(","))
    if unknown := phases - set(PHASES):
        print(f"unknown phase(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.no_admin:
        phases -= {"admin"}
    kinds = ["postgres", "sqlite"] if args.database == "both" else [args.database]
    started = time.monotonic()
    info = report.machine_info()
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    suites: list[Suite] = []
    try:
        for kind in kinds:
            pooler = args.pooler if kind == "postgres" else "none"
            with databases(kind, workdir, info, pooler) as new_database:
                for index, count in enumerate(workers):
                    via = " via PgBouncer" if pooler == "pgbouncer" else ""
                    via += ", argon2id" if args.hasher == "argon2id" else ""
                    suite = Suite(
                        label=f"{kind}{via}, {count} worker{'s' if count > 1 else ''}",
                        kind=kind,
                        database_url=new_database(f"bench_{kind}_w{count}"),
                        workers=count,
                        profile=profile,
                        workdir=workdir,
                        # the admin phase (PostgreSQL) runs in the first worker count only
                        phases=phases
                        if kind == "postgres" and index == 0 and pooler == "none"
                        else phases - {"admin"},
                        pooler=pooler,
                        hasher=args.hasher,
                    )
                    suites.append(suite)
                    run_suite(suite)
    except KeyboardInterrupt:
        print("interrupted; reporting what was measured", file=sys.stderr)
    finally:
        if args.keep:
            print(f"work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    info["Run time"] = f"{(time.monotonic() - started) / 60:.1f} min"
    info["Mode"] = (
        f"{'quick' if quick else 'full'}: {profile.duration_s:.0f} s per run, "
        f"{profile.rounds} round(s), rows {', '.join(f'{r:,}' for r in profile.rows)}"
    )
    markdown = report.render([row for suite in suites for row in suite.rows], info)
    print("\n" + markdown)
    if args.output:
        args.output.write_text(markdown, encoding="utf-8")
    failed = any(row.status == "ERROR" for suite in suites for row in suite.rows)
    return 1 if failed else 0
