"""Indexes for the admin's search of users by part of their email or name.

``GET /admin/users?search=`` keeps the users whose email, first or last name has each word:
``email LIKE '%word%'`` (the email's trigram index of migration 1) or ``UPPER(first_name)
LIKE UPPER('%word%')`` or the same on ``last_name`` (Tortoise's ``icontains``).

- GIN trigram indexes on ``upper(first_name)`` and ``upper(last_name)`` serve the names' part
  for words of 3 or more characters: a search for one user reads a few index pages instead of
  every user (at 100,000 users: 231 ms p50 before, about 10 ms after). Like migration 1 they
  need ``pg_trgm``; where it is not installed they are skipped with a WARNING.
- Words of 1 or 2 characters have no trigram. A GIN index on the characters of the user's
  upper-cased text, ``string_to_array(upper(email || ' ' || first_name || ' ' ||
  last_name), NULL)``, answers the necessary condition "the text has every character of the
  word" that the search adds for them (``sanic_auth_sessions.search``), so a short word that
  matches few users no longer reads every user. Built-in functions only: always created.

Plain ``CREATE INDEX`` (writes to ``auth_users`` wait while it builds: about 2.5 s per
100,000 users for the three).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE INDEX IF NOT EXISTS "idx_auth_users_search_chars" ON "auth_users" USING gin (
            string_to_array(upper("email" || ' ' || "first_name" || ' ' || "last_name"), NULL)
        );
        DO $$
        DECLARE
            trgm_schema name;
        BEGIN
            SELECT extnamespace::regnamespace::name INTO trgm_schema
            FROM pg_extension WHERE extname = 'pg_trgm';
            IF trgm_schema IS NULL THEN
                RAISE WARNING 'pg_trgm is not available, so the users'' names get no trigram '
                    'index: admin search by name will scan auth_users';
            ELSE
                EXECUTE format(
                    'CREATE INDEX IF NOT EXISTS "idx_auth_users_first_name_trgm" '
                    'ON "auth_users" USING gin (upper("first_name"::text) %I.gin_trgm_ops)',
                    trgm_schema
                );
                EXECUTE format(
                    'CREATE INDEX IF NOT EXISTS "idx_auth_users_last_name_trgm" '
                    'ON "auth_users" USING gin (upper("last_name"::text) %I.gin_trgm_ops)',
                    trgm_schema
                );
            END IF;
        END
        $$;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_auth_users_last_name_trgm";
        DROP INDEX IF EXISTS "idx_auth_users_first_name_trgm";
        DROP INDEX IF EXISTS "idx_auth_users_search_chars";"""


MODELS_STATE = (
    "eJztXG1T2zgQ/isefzk6AwykCWW4m5sJkF5zJUkHwrXTlzHCVhIVW3YtuZBy/PeTZDt+T+"
    "IQh9jnL22y2rXlZ6XVPrsOjzJw6GS/B41baJMJsuQT6VHGwIDsQ2Jsl4ksyx/hXym41Weq"
    "ijFTJUL3llAbqJSNj4BOIBNpkKg2sigyMZNiR9e50FSZIsLjQORg9MOBCjXHkE6gzQa+fJ"
    "Edwj6xQdMeA4x+AXGVb9+YBGENPkDC1R7lEYK6Jj5HNBWkcWPbZBPmNvDBsiEhbETocpH3"
    "3N4c6NQSjyYLZfYk4svTrrToFt9NhKGmAPqs+3BF604Rt4p4xb2JkCu+7fV19/yt0OR43i"
    "qqqTsGDrStKZ2w+fnqjoO0fW7Dx8YQQxtQqIX8xKfmudYXuS5hAmo7cIa5Fgg0OAKOzr0t"
    "/zFysMoRkcSd+D/NP72phdQUpT8YKledoaLIORaHyqBkMCFMOaKPT+51A0CEVOY3OHvXvt"
    "x5ffRKQGASOrbFoIBLfhKGgAIlcGeAslgnCZzPJsDuYMcQWHfZNABWYQJz3zaGOpv0Knj7"
    "ggDwYDfNoHS3Xk6I5cHHfufyRDLv2Yy+4vZ5r9s/kYBmIPwV9zq9Uz4YuvJCV8gGeFB0iM"
    "csOpxIh0dzXPNP+1J459D1jskChRtJ+t5IQww9if3mOyXYWQnPnDNEKTJg+i6IGMbconmW"
    "+/6Hopzkr+gC9oBsQ6ANsD71tuMc4IfdXudq2O594LczCPmhC/jaww4faQjpNCbdiTtpdh"
    "HpY3f4TuJfpc+Dfie+0WZ6w888cvJjwlSwea8ALRQ5fKmPWsTnKQF22diXYrrOQPjCPn9O"
    "3Avg5YdqTlhDJjWcDE5+Uo/uUk8RP2WJQvvWtCEa4/dwmjhHYoCKDOzau0g5AQ2kwYa3wf"
    "0ssQkvJ/bkGtQhdc/a9tVZ+7wjZ0aDZwM7iF2sogCnhMF0oPlCvgXq3T2wNSWyovmI2TBj"
    "kplucshoGHEJwGAsQOJP4x0GMR8kyEfcQ3PpR/g5CyAgMaJR5+cvmp+L/1Pz83Scff3N5e"
    "RFpnvRPPvgYJlE++AgO9PmY9G8gOjOOA++vv568F28hsuNbnhmCZCH8IGmgxwzWwlrD8lt"
    "WcrzmErn0zBCUnxId3rtT68iROVi0P/LVw+54OxicBpDHhGFnQjoZ0rwODUZbwc4I06H7W"
    "LA3zLDoqKIv/A3C/3pYHARgf60G8f2mpcHdg6FH5gScnOJbn8YA1xl1JSuRNqjlpth7RuN"
    "M9Ul7Y6lrej0qGVdqtkWr/sYhdwuZp8gv9kkIlgesUZBLAx7xm/fX0IdZJx1Ka2Jkq2DLP"
    "b2VBzX+gAIuTdt7RISSIfmHUxhXCk6uwt4l+WZKDa3YZyJGS3Hv+S2RBhGOtxzCJSEuSTM"
    "f5dMtkMkRIl09a6912gdSYhIhDJ+r+3Ha9GrX6VmeVvO8oQblQkgkzxcJGpVOUZy1FyCkB"
    "w1M/kIH4rmaPDBQswpKxzXUcvq5WjlPZ1TkjKyWkZG1pmOlYh+ls2/5WJaddK9JqpVN/Dq"
    "Bt52N/Beoq8kME+wG98Tc/kMf566f1RxZgENgPQ8pGJmUDk+0WgtQyiYViajEGNRSsHZF8"
    "so/NpAHqRTTKvYtWscL9NXahxn95X4WBT1EbIJVfL2RqNWG3xrsaiQsYEOng5WADpiVOO8"
    "DM51v27D/ToGHHEsaKdnvoswj5huEPaZpLS4l4u9133Suk9ae73uk75gnzS8jzJbkKtClt"
    "4GrSJ0xP9x2jPQ4mWVK/c6VYKp2OqUD1hqkSqE5txaVdh7i9vtAwwlgsYYansISxr8iVS4"
    "Lw0nvGs+Yltn4vbNfyPSzc13im5ueL+c8mGTigUgqaZhARvuAaztkXtgSXdwmmzIF3ifxY"
    "W1yM8zQ7XJCCMQTMzvbK3x56DZN9kVtbo13qrYq4cau/WvWEtb5fS2m3sgKmyr5alWpBpX"
    "rvq5/rcp3HiXuzgUM9tgeega37FM1Q/UmykWNVqtpYrOrTlF51YG8mmxZSHuqSGmlK/Ubw"
    "BoZHG6w0+EPEhHraoHdXMZpJvZQDcTOIv0hSWQOKU+kI1z1Kp6OLeWKjS35hSaWykFfVN1"
    "fyGpIjrNVdSPG1YP8GI6KDPcTAdTe0XMA9sa9uUbVyu+Chi3rWDZsbxlxmR1uVyv9dZuXt"
    "HNdYu0btVty74qadem7tX9H72e1aurX6+uX6+uX6+e28BqQxupEznRu/Lku3PaVoHG1rxe"
    "3cUZf3AjdRcjt64SXm6e37a35D3mU9hrHDbfNI9fHzWPmYqY5kzyZs7+9jOg7D7DT2j77c"
    "plKXzIpIJv9xZSdeVbKgfCnnoF0S2kMMLuSFMLrX9fDfoZ6XxgEs/qkEqlfyUdkUSsKAHa"
    "c8DlYERSt8Qf5Yn//Z1YUsAvcJqWFWzyGHv6DzZEP1g="
)
