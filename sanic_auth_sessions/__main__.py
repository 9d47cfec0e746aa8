import sys

from sanic_auth_sessions.cli import main

sys.exit(main())
