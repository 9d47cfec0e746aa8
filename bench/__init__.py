"""Benchmark harness for sanic_auth_sessions: ``python -m bench`` (see bench/README.md).

Every figure is measured next to a ceiling taken in the same run on the same machine, so the
ratios hold on a noisy machine where the absolute numbers do not.
"""
