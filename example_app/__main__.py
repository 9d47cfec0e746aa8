"""``python -m example_app [--host H] [--port P] [--workers N]``: serve the example app.

The options default to the environment's ``HOST`` (127.0.0.1), ``PORT`` (8000) and ``WORKERS`` (1).
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

from sanic import Sanic
from sanic.worker.loader import AppLoader

from sanic_auth_sessions import ConfigurationError


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m example_app", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    # Worker processes import the app by name: a loader, not this module's globals.
    loader = AppLoader("example_app.server:app")
    try:
        app = loader.load()
    except ConfigurationError as exc:  # a bad setting: one line, not a traceback
        logging.getLogger("sanic.root").critical("AUTH: cannot start: %s", exc)
        raise SystemExit(2) from None
    # Always under Sanic's worker manager, one worker included: the main process prepares
    # the database once and a failed start ends as one line and exit status 2.
    app.prepare(host=args.host, port=args.port, workers=args.workers)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
