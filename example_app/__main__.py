"""``python -m example_app``: serve the example app; HOST, PORT and WORKERS come from the env."""

import os

from sanic import Sanic
from sanic.worker.loader import AppLoader


def main() -> None:
    workers = int(os.environ.get("WORKERS", "1"))
    # Worker processes import the app by name: a loader, not this module's globals.
    loader = AppLoader("example_app.server:app")
    app = loader.load()
    app.prepare(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        workers=workers,
        single_process=workers == 1,
    )
    if workers == 1:
        Sanic.serve_single(primary=app)
    else:
        Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
