"""The reference host app: mounts sanic_auth_sessions and adds a route of its own."""
