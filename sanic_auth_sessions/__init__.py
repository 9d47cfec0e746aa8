"""Accounts, JWT sessions with rotation, organizations and an admin API for Sanic apps."""

__version__ = "0.1.0"
