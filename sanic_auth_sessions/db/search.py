"""An index for the admin's short user searches on PostgreSQL.

``/admin/users?search=`` keeps every word that is in the email, first or last name (see
:func:`~.admin.user_search`). Words of 3 or more characters are served by the trigram indexes
of the migrations; shorter words have no trigram, so without help PostgreSQL reads every user
to find the few that match (0.65 µs a row: 65 ms at 100,000 users).

The help is a necessary condition an index can answer: every character of a matching word is
among the characters of the user's text, upper-cased (``upper`` maps character by character,
so a word in the email, or equal to part of a name once both are upper-cased, passes).
Migration 3 indexes ``string_to_array(upper(email || ' ' || first_name || ' ' || last_name),
NULL)`` (the text's characters) with GIN; the word's own ``LIKE`` conditions still decide. A
word of 1 or 2 characters that matches few users is then a few index pages, not a scan.

Only built-in functions are used, so the condition is correct (and merely unindexed) on a
PostgreSQL database made by ``generate_schemas`` instead of the migrations.
"""

from __future__ import annotations

from typing import Any

from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Term, ValueWrapper
from pypika_tortoise.utils import format_alias_sql
from tortoise.queryset import QuerySet

from sanic_auth_sessions.core.models import User

TRIGRAM_CHARS = 3  # shorter words have no trigram
# The indexed expression of migration 3, on the columns of an unaliased auth_users.
USER_CHARACTERS_SQL = (
    'string_to_array(upper("email"||\' \'||"first_name"||\' \'||"last_name"),NULL)'
)


class _HasCharactersOf(Term):
    """``<the user's characters> @> <the word's characters>``; the word is a parameter."""

    def __init__(self, word: str) -> None:
        super().__init__()
        self.word = ValueWrapper(word)

    def get_sql(self, ctx: SqlContext) -> str:
        word = self.word.get_sql(ctx)
        sql = f"({USER_CHARACTERS_SQL}@>string_to_array(upper({word}),NULL))"
        return format_alias_sql(sql, self.alias, ctx) if ctx.with_alias else sql


def with_short_words_indexed(query: QuerySet[User], words: list[str]) -> QuerySet[User]:
    """``query`` (already filtered by ``words``) with the index's condition for short words."""
    if User._meta.db.capabilities.dialect != "postgres":
        return query
    for number, word in enumerate(w for w in words if len(w) < TRIGRAM_CHARS):
        name = f"search_characters_{number}"
        annotation: dict[str, Any] = {name: _HasCharactersOf(word)}
        query = query.annotate(**annotation).filter(**{name: True})
    return query
