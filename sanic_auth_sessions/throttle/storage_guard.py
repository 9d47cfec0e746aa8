"""A time budget and a circuit breaker around the rate-limit and lockout storage.

Every call to the counter storage goes through the :class:`StorageGuard` of that storage (one
per storage and worker; the limiter and the lockout share theirs):

- **Budget.** All the storage calls of one request share ``AUTH_RATE_LIMIT_STORAGE_TIMEOUT_MS``.
  The request's :class:`RequestBudget` is carried by a context variable that the HTTP layer
  sets when a request starts (:func:`start_request_budget`), so calls made from the service
  layer, or from tasks the request starts, count too. Each call may use what the request has
  left; once it is spent, the request's remaining calls are not made. A storage that hangs
  therefore adds at most the budget to a request, however many calls the request makes.
  Outside a request each call gets the whole budget.
- **Breaker.** After ``FAILURES_TO_OPEN`` failed calls in a row (errors or timeouts) the breaker
  opens: for ``AUTH_RATE_LIMIT_BREAKER_COOLDOWN_S`` seconds the storage is not called at all.
  Then one call is let through (half-open): its success closes the breaker, its failure opens
  it for another cool-down.
- **Policy.** A call that fails or is not made fails open (``AUTH_RATE_LIMIT_FAIL_OPEN=true``:
  :class:`StorageSkipped` is raised for the caller to carry on without the storage) or closed
  (:class:`errors.ServiceUnavailable`, a 503 ``SERVICE_UNAVAILABLE``).

One line is logged when the breaker opens (ERROR) and one when it closes (WARNING), never one
per request; single failures below the threshold are logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from limits.errors import StorageError

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.core.config import AuthSettings

logger = logging.getLogger("sanic_auth_sessions")

P = ParamSpec("P")
T = TypeVar("T")

# OSError covers connection errors and, since Python 3.11, TimeoutError.
STORAGE_ERRORS: tuple[type[Exception], ...] = (StorageError, OSError, asyncio.TimeoutError)
FAILURES_TO_OPEN = 3
MIN_CALL_S = 0.001  # less budget left than this counts as none (a timer may fire a hair early)


@dataclass
class RequestBudget:
    """What one request has left of the storage time budget (``None``: all of it)."""

    left_s: float | None = None


# Shared by the request's tasks: a task started by the request copies the variable, not the
# budget it points to.
_request_budget: ContextVar[RequestBudget | None] = ContextVar(
    "sanic_auth_sessions_storage_budget", default=None
)


def start_request_budget() -> RequestBudget:
    """Give the current request (the current context) a whole budget of its own."""
    budget = RequestBudget()
    _request_budget.set(budget)
    return budget


def current_request_budget() -> RequestBudget | None:
    """The budget of the request being handled, ``None`` outside a request."""
    return _request_budget.get()


if sys.version_info >= (3, 11):

    async def _within(timeout_s: float, call: Awaitable[T]) -> T:
        async with asyncio.timeout(timeout_s):
            return await call

else:  # pragma: no cover - Python 3.10 has no asyncio.timeout

    async def _within(timeout_s: float, call: Awaitable[T]) -> T:
        return await asyncio.wait_for(call, timeout_s)


class StorageSkipped(Exception):
    """The storage was not used for this call and the policy is to fail open."""


def redacted_url(url: str) -> str:
    """``url`` without its password, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"***@{netloc}"))


class StorageGuard:
    """Runs storage calls within the request's time budget, behind a circuit breaker.

    ``what`` names the storage's user in the log lines (``"Rate-limit"``, ``"Login-lockout"``).
    """

    def __init__(self, settings: AuthSettings, what: str) -> None:
        self.what = what
        self.url = redacted_url(settings.rate_limit_storage_url)
        self.fail_open = settings.rate_limit_fail_open
        self.budget_s = settings.rate_limit_storage_timeout_ms / 1000
        self.cooldown_s = float(settings.rate_limit_breaker_cooldown_s)
        self.failures = 0  # failed calls in a row
        self.is_open = False
        self._retry_at = 0.0  # time.monotonic() after which one call may probe the storage
        self._probing = False

    async def call(
        self, operation: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """``await operation(*args, **kwargs)`` if the breaker and the request's budget allow.

        Raises :class:`StorageSkipped` (fail open) or ``errors.ServiceUnavailable`` (fail
        closed) when the call fails, times out or is not made.
        """
        if self.is_open and (self._probing or time.monotonic() < self._retry_at):
            raise self._refusal()
        budget = current_request_budget()
        timeout_s = self.budget_s if budget is None or budget.left_s is None else budget.left_s
        if timeout_s < MIN_CALL_S:
            raise self._refusal()  # this request has spent its budget on earlier calls
        probing = self._probing = self.is_open
        started = time.monotonic()
        try:
            result = await _within(timeout_s, operation(*args, **kwargs))
        except STORAGE_ERRORS as exc:
            self._failed(exc)
            raise self._refusal() from exc
        else:
            self._succeeded()
            return result
        finally:
            if probing:
                self._probing = False
            if budget is not None:
                budget.left_s = timeout_s - (time.monotonic() - started)

    def _succeeded(self) -> None:
        self.failures = 0
        if self.is_open:
            self.is_open = False
            logger.warning(
                "%s storage %s answers again: circuit breaker closed, limits apply again.",
                self.what,
                self.url,
            )

    def _failed(self, exc: Exception) -> None:
        self.failures += 1
        if self.is_open:  # the half-open probe failed: another cool-down, already logged
            self._retry_at = time.monotonic() + self.cooldown_s
            logger.debug("%s storage %s still fails: %s", self.what, self.url, _describe(exc))
        elif self.failures >= FAILURES_TO_OPEN:
            self.is_open = True
            self._retry_at = time.monotonic() + self.cooldown_s
            consequence = (
                "FAILING OPEN: requests are NOT limited"
                if self.fail_open
                else "failing closed: answering 503"
            )
            logger.error(
                "%s storage %s is unavailable (%d failures in a row, last %s): circuit breaker "
                "open, the storage is skipped for %g s at a time until it answers; %s.",
                self.what,
                self.url,
                self.failures,
                _describe(exc),
                self.cooldown_s,
                consequence,
            )
        else:
            logger.debug("%s storage %s failed: %s", self.what, self.url, _describe(exc))

    def _refusal(self) -> Exception:
        return StorageSkipped() if self.fail_open else errors.ServiceUnavailable()


def _describe(exc: BaseException) -> str:
    inner = exc.storage_error if isinstance(exc, StorageError) else exc
    if isinstance(inner, asyncio.TimeoutError):
        return "no answer within the time budget"
    return f"{type(inner).__name__}: {inner}"
