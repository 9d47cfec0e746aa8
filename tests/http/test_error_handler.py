from __future__ import annotations

from sanic.exceptions import MethodNotAllowed, PayloadTooLarge, ServiceUnavailable
from tortoise.exceptions import DBConnectionError, IntegrityError

from sanic_auth_sessions.core import errors
from sanic_auth_sessions.http.error_handler import to_domain_error


def test_mapping_to_statuses() -> None:
    assert to_domain_error(errors.EmailTaken())[1] == 409
    assert to_domain_error(errors.RateLimited(3))[1] == 429
    assert to_domain_error(IntegrityError("duplicate"))[1] == 409
    error, status = to_domain_error(DBConnectionError("down"))
    assert (error.code, status) == ("DATABASE_UNAVAILABLE", 503)
    error, status = to_domain_error(PayloadTooLarge("big"))
    assert (error.code, status) == ("PAYLOAD_TOO_LARGE", 413)
    error, status = to_domain_error(MethodNotAllowed("no", method="GET", allowed_methods=[]))
    assert (error.code, status) == ("METHOD_NOT_ALLOWED", 405)
    error, status = to_domain_error(ServiceUnavailable("busy"))
    assert (error.code, status) == ("SERVICE_UNAVAILABLE", 503)
    error, status = to_domain_error(RuntimeError("secret internals"))
    assert (error.code, status) == ("INTERNAL_ERROR", 500)
    assert "secret" not in error.message
