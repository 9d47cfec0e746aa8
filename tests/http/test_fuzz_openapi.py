"""Fuzzing the running example app from its own OpenAPI document (schemathesis).

Every operation gets a bounded number of generated requests, valid and invalid; the checks:
no 5xx, the status code is one the document lists, and the body conforms to its schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ..conftest import STRONG_PASSWORD
from ..example_process import example_app
from ..helpers import ROOT_EMAIL
from ..serving import loopback_sync_client

pytestmark = pytest.mark.coverage_paused  # the server is another process; this side generates

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "4"))
# Operations that would change the fuzzing account itself (and end its sessions for good).
OWN_ACCOUNT_PATHS = {("DELETE", "/api/v1/users/me"), ("PATCH", "/api/v1/users/me")}


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cwd: Path = tmp_path_factory.mktemp("fuzz")
    env = {
        "ENVIRONMENT": "test",
        "RATE_LIMIT_ENABLED": "false",
        "FIRST_SUPERUSER_EMAIL": ROOT_EMAIL,
        "FIRST_SUPERUSER_PASSWORD": STRONG_PASSWORD,
        # Sanic reads SANIC_-prefixed variables into its config: cheap hashing, and no
        # lockout of the fuzzing account by generated login attempts.
        "SANIC_AUTH_BCRYPT_ROUNDS": "4",
        "SANIC_AUTH_LOCKOUT_ENABLED": "false",
    }
    with example_app(
        cwd, "-m", "sanic", "example_app.server:app", "--single-process", **env
    ) as url:
        yield url


class Token:
    """A superuser's access token, renewed whenever a fuzzed request ended its session."""

    def __init__(self, base_url: str) -> None:
        self.client = loopback_sync_client(base_url, timeout=30)
        self.value = ""

    def headers(self) -> dict[str, str]:
        me = self.client.get("/api/v1/users/me", headers=self._h()) if self.value else None
        if me is None or me.status_code != 200:
            response = self.client.post(
                "/api/v1/auth/login", json={"email": ROOT_EMAIL, "password": STRONG_PASSWORD}
            )
            assert response.status_code == 200, response.text
            self.value = response.json()["access_token"]
        return self._h()

    def _h(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.value}"}


def test_no_server_error_and_documented_responses(fuzz_server: str) -> None:
    """Each operation: ``MAX_EXAMPLES`` generated requests (hypothesis, derandomized)."""
    # Imported here, not at collection: schemathesis takes each test worker 0.2 s to import.
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    token = Token(fuzz_server)
    api_schema = schemathesis.openapi.from_url(f"{fuzz_server}/docs/openapi.json")
    api_schema.config.update(base_url=fuzz_server)
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    failures: list[str] = []
    operations = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in OWN_ACCOUNT_PATHS:
            continue
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any) -> None:
            case.call_and_validate(headers=token.headers(), checks=checks)

        try:
            run()
        except Exception as exc:  # collect every failing operation, then report them all
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations >= 30, f"only {operations} operations were fuzzed"
    assert not failures, "\n\n".join(failures)
