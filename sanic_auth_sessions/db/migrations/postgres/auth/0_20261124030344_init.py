from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_organizations" (
    "id" UUID NOT NULL PRIMARY KEY,
    "name" VARCHAR(100) NOT NULL,
    "slug" VARCHAR(100) NOT NULL UNIQUE,
    "description" TEXT,
    "is_active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_auth_organi_created_bf4241" ON "auth_organizations" ("created_at");
CREATE TABLE IF NOT EXISTS "auth_users" (
    "id" UUID NOT NULL PRIMARY KEY,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "hashed_password" VARCHAR(128) NOT NULL,
    "first_name" VARCHAR(100) NOT NULL,
    "last_name" VARCHAR(100) NOT NULL,
    "is_active" BOOL NOT NULL,
    "is_superuser" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS "idx_auth_users_created_d6844c" ON "auth_users" ("created_at");
CREATE TABLE IF NOT EXISTS "auth_memberships" (
    "id" UUID NOT NULL PRIMARY KEY,
    "role" VARCHAR(16) NOT NULL,
    "joined_at" TIMESTAMPTZ NOT NULL,
    "organization_id" UUID NOT NULL REFERENCES "auth_organizations" ("id") ON DELETE CASCADE,
    "user_id" UUID NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_auth_member_user_id_0131bf" UNIQUE ("user_id", "organization_id")
);
CREATE INDEX IF NOT EXISTS "idx_auth_member_organiz_f61008" ON "auth_memberships" ("organization_id", "role");
CREATE INDEX IF NOT EXISTS "idx_auth_member_organiz_4f31b3" ON "auth_memberships" ("organization_id", "joined_at");
COMMENT ON COLUMN "auth_memberships"."role" IS 'OWNER: owner\nADMIN: admin\nMEMBER: member';
CREATE TABLE IF NOT EXISTS "auth_password_reset_tokens" (
    "id" UUID NOT NULL PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" UUID NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_passwo_expires_946ebe" ON "auth_password_reset_tokens" ("expires_at");
COMMENT ON TABLE "auth_password_reset_tokens" IS 'A single-use reset token; only its SHA-256 is stored.';
CREATE TABLE IF NOT EXISTS "auth_sessions" (
    "id" UUID NOT NULL PRIMARY KEY,
    "refresh_token_jti" VARCHAR(64) NOT NULL UNIQUE,
    "device_name" VARCHAR(255) NOT NULL,
    "device_id" VARCHAR(255),
    "ip_address" VARCHAR(45),
    "user_agent" VARCHAR(500),
    "location_city" VARCHAR(100),
    "location_country" VARCHAR(100),
    "last_used_at" TIMESTAMPTZ NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "is_active" BOOL NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "user_id" UUID NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_user_id_36cc1f" ON "auth_sessions" ("user_id", "is_active", "last_used_at");
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_is_acti_20cf2c" ON "auth_sessions" ("is_active", "last_used_at", "id");
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_last_us_fa5604" ON "auth_sessions" ("last_used_at", "id");
CREATE INDEX IF NOT EXISTS "idx_auth_sessio_expires_37837b" ON "auth_sessions" ("expires_at");
COMMENT ON TABLE "auth_sessions" IS 'One signed-in device. The refresh token''s ``jti`` is the rotation compare-and-swap key.';
CREATE TABLE IF NOT EXISTS "aerich" (
    "id" SERIAL NOT NULL PRIMARY KEY,
    "version" VARCHAR(255) NOT NULL,
    "app" VARCHAR(100) NOT NULL,
    "content" JSONB NOT NULL
);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_memberships" CASCADE;
        DROP TABLE IF EXISTS "auth_password_reset_tokens" CASCADE;
        DROP TABLE IF EXISTS "auth_sessions" CASCADE;
        DROP TABLE IF EXISTS "auth_organizations" CASCADE;
        DROP TABLE IF EXISTS "auth_users" CASCADE;
        """


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
