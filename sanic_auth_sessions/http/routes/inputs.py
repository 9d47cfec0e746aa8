"""Reading request bodies in the routes, beyond what ``schemas.py`` does alone."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel
from sanic import Request

from sanic_auth_sessions.core.errors import ErrorDetail, ValidationFailed
from sanic_auth_sessions.http.guards import current_auth, manager_of
from sanic_auth_sessions.http.schemas import AddMemberRequest, in_field_order, parse_json, read_json

Body = TypeVar("Body", bound=BaseModel)


async def parse_json_with_password(
    request: Request,
    model: type[Body],
    *,
    password_field: str,
    input_fields: Sequence[str] = (),
    user_inputs: Sequence[str] = (),
) -> Body:
    """``parse_json``, whose 422 also reports the password policy for ``password_field``.

    A bad email and a weak password give two entries in one answer. The strength estimate
    uses the submitted text of ``input_fields`` (even when malformed) and ``user_inputs``.
    Without any other invalid field the service applies the policy itself, as always.
    """
    try:
        return parse_json(request, model)
    except ValidationFailed as invalid:
        data = read_json(request)  # parsed already: an object, or parse_json raised 400
        password = data.get(password_field)
        if not isinstance(password, str) or any(e.field == password_field for e in invalid.errors):
            raise
        texts = [*user_inputs, *(data[k] for k in input_fields if isinstance(data.get(k), str))]
        try:
            await manager_of(request).validate_password(
                password, user_inputs=tuple(texts), field=password_field
            )
        except ValidationFailed as weak:
            merged = in_field_order(model, [*invalid.errors, *weak.errors])
            raise ValidationFailed(merged) from None
        raise


def user_key(request: Request) -> str:
    """Rate-limit key of per-user limits; the route authenticates first (``@require_auth``)."""
    return str(current_auth(request).user.id)


def add_member_key(request: Request) -> str | None:
    """Adding a member by email answers whether an account has that email: counted per user
    (after the body is read), so it is no free existence oracle."""
    return user_key(request) if parse_json(request, AddMemberRequest).email else None


def at_most_one_code(code: str | None, recovery_code: str | None) -> None:
    """422 on ``code`` when a step-up body has both ``code`` and ``recovery_code``."""
    if code is not None and recovery_code is not None:
        message = "Give code or recovery_code, not both."
        raise ValidationFailed([ErrorDetail("VALIDATION_ERROR", message, "code")])
