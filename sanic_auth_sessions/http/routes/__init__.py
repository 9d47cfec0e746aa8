"""Thin blueprints: validate the request, call the manager, shape the response."""
