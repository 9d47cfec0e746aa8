import os

from example_app.server import app

if __name__ == "__main__":
    app.run(
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8000")),
        single_process=os.environ.get("WORKERS", "1") == "1",
        workers=int(os.environ.get("WORKERS", "1")),
    )
