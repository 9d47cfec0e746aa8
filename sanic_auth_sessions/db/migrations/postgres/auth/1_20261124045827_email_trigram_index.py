"""A trigram index on ``auth_users.email`` for the admin's search by part of an email.

``GET /admin/sessions?search=`` and ``GET /admin/users?search=`` filter with
``email LIKE '%term%'`` (emails are stored lower-cased), which a B-tree cannot serve; the
GIN index over ``pg_trgm`` trigrams can, for terms of three characters or more. ``pg_trgm`` is
a trusted extension (PostgreSQL 13+): the owner of the database may create it. Where it cannot
be created, the migration still succeeds without the index and raises a WARNING; search then
works by scanning ``auth_users``.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        DO $$
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
        EXCEPTION WHEN OTHERS THEN
            RAISE WARNING 'pg_trgm is not available (%), so auth_users.email gets no trigram '
                'index: admin search by email will scan auth_users', SQLERRM;
        END
        $$;
        DO $$
        DECLARE
            trgm_schema name;
        BEGIN
            SELECT extnamespace::regnamespace::name INTO trgm_schema
            FROM pg_extension WHERE extname = 'pg_trgm';
            IF trgm_schema IS NOT NULL THEN
                EXECUTE format(
                    'CREATE INDEX IF NOT EXISTS "idx_auth_users_email_trgm" '
                    'ON "auth_users" USING gin ("email" %I.gin_trgm_ops)',
                    trgm_schema
                );
            END IF;
        END
        $$;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP INDEX IF EXISTS "idx_auth_users_email_trgm";"""


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
