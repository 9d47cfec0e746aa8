"""Social login: the social identities linked to users (provider and subject, unique both per
identity and per user and provider) and the started logins and links waiting for their
callback (hashed ``state``, PKCE verifier, OIDC nonce, expiry, spent flag).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_oauth_accounts" (
    "id" UUID NOT NULL PRIMARY KEY,
    "provider" VARCHAR(32) NOT NULL,
    "subject" VARCHAR(255) NOT NULL,
    "provider_email" VARCHAR(254),
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" UUID NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_auth_oauth__provide_2bdd1c" UNIQUE ("provider", "subject"),
    CONSTRAINT "uid_auth_oauth__user_id_5923af" UNIQUE ("user_id", "provider")
);
COMMENT ON TABLE "auth_oauth_accounts" IS 'A social identity linked to a user: the provider''s name and its subject (OIDC ``sub``,';
        CREATE TABLE IF NOT EXISTS "auth_oauth_states" (
    "id" UUID NOT NULL PRIMARY KEY,
    "state_hash" VARCHAR(64) NOT NULL UNIQUE,
    "provider" VARCHAR(32) NOT NULL,
    "redirect_uri" VARCHAR(2000) NOT NULL,
    "mode" VARCHAR(8) NOT NULL,
    "session_id" UUID,
    "code_verifier" VARCHAR(128) NOT NULL,
    "nonce" VARCHAR(64),
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" UUID REFERENCES "auth_users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_oauth__expires_fdef68" ON "auth_oauth_states" ("expires_at");
COMMENT ON TABLE "auth_oauth_states" IS 'One started social login or link, waiting for its callback; only the SHA-256 of its';"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_oauth_accounts";
        DROP TABLE IF EXISTS "auth_oauth_states";"""


MODELS_STATE = (
    "eJztXetz4jgS/1dUfNmkilAJeUwud3VVJGFmuNmEqUB2Z3ezZYQtgjdG9voRhpub//3Usg"
    "1+gg2YGI++5CF3S/JPUlvdrW59q2HHHjfaE6xqff2F0NoV+lajeELYH7FndVZkGP4T+NfG"
    "Q21OKhEglWygtTjx0LJNLNuMYIQ1i7AihViyqRq2qkNTtRayVPqskSPHIoizH70SUx2pMg"
    "YSpJteqTzG9JkgXvc/kU61GVJtC/U+to6a5xdItZBl6yZRGtCuosusYVZxMU080Sc6GHCm"
    "wQDK7TFBWFFMYlmMBU2xheAhUVhl6IA/lWXdofZPFhqx9jAK9qDO+SmZsjbJE3UJ3M4cNt"
    "AvWFMVtzfTMauT94m9isnqGgwsIjumas8ky8YTY9EbVtOiJwpBU5WNJEDjUPVvh7AxeiaM"
    "zmQA/fEnK1apQr4SC/79VhupRFP43zVoSFIV4DQc09AtUgNy8tWAl2Wdt/wavDlDHU2DeT"
    "Ez+LSocWI2Cfg/3+soVDuHMFg3+1M2CbaJImF7o5aA0HiReGOhOe2+DC+XfN7Hx87te04J"
    "k2coybrmTOiC2pjZY53OyR1HVRrAA8+eCSUm9DgwyaFr3sLwi1zcWYFtOmQOuLIoUMgIOx"
    "osldq/Rg6V+dzkLcGPs397XQuQSdJ9ty/12n1JqsVWlodOcCV4RTKDksGkUhsQ/fbdrXcB"
    "CC+tQQM3H1sPB6cXhxwC3bKfTf6Qw1X7zhmxjaXFgC5QDgxoGOqbMTbb1JlwuDusJ5jKJA"
    "Z7gD2CPev6Oqj7BQvYFwLJB9SHLDvItV/aD533v125y3n2RBli9x/aV97qjYqi5AGoTfBX"
    "SSP0mUnUK3RysWRAfmk98DE5ccdEZ7LVlb733pMmf/SdrzN/KLg8k8bYGiePRvLED3NtZx"
    "BWT/38Q5B5nodhvjjLAPPFWSrM8CgM81yWZUV4IfxKPMPXhLd5ngVfRpUKMH8WRjj8rcsD"
    "dZyzgpifNjNAftpMRRweRab0V0NlIh8+xTGwbxlMtjohKXM7xBkBW/FYG/4f24F+l8JkCd"
    "L9zl2712/dfYbqJ5b1t8bhavXb8KTJS2eR0oOoPJ9Xgn7t9D8i+Bf93r1vR7/Ec7r+77C5"
    "gl24LlF9KrHdaAAkv9gvCo0y2+IpawxxgG0L4+sNXllWVpXGN7ChzjnEYc7drOLdClD2gk"
    "qXqVbeDNyTYfcWy6pV7StuWXWdoK63RYWnvEt5hX4DKuToJVG9Aaji0L7XTaI+009kFtNu"
    "IoByw8qjV8l+ArooXcxIE0/nGndwOrE3V4hGbHeb1urdtG7broo+xPLLFJuKFAIanuhNPV"
    "Iyp40/mjQn0RJM8TMHB97CW0Tjxh2ZDIlpjVWjFjN0BZ7VVxi6JnPSbHaudHAT7DF/zKeX"
    "bj5jqv6XW4lqfy6z0wQpPdBNXduqsSahib90lQpTzZ6bavg8ieGczU7j8+5Onaq5Sy8nxL"
    "Xur/fthyukT1mPnmjr9q5zf4WwMlHpE71r313DQ7fmJ/rhkX18r9CzQyy7HCacxTrLuYML"
    "MYoN3D5t4BLEbVZJmMAqNnSRJSX2x2J/XPL9cZo02BjYbqSyigKcIAZLpIiMMNtiabBpIL"
    "W4KhJ8Wl+ljIywJPvUGf3u/TFBFmEQKsiyiYH0EcJI059VWkdTrNoMf+6pBmezrCukgTo2"
    "+JuhLe4acl3NrkMcgZsoyfVeSCvgfb/WHcqd6+DrVsirKhOoHP4zsGVNddNtsY5eufs8m+"
    "f8iaa5zuvIobaqMbaFZXswqPPODwatx/5H6e59S7prfZFa/X6bffd7rEZ4JavOKpRJRt+7"
    "UIXeVBUSrtKduEqFI2/HjjxXQuae2BG2CkK9/bk9Uk3Llkbs46sn7IDTsY7y7dCiYkyVos"
    "R00YYRbNtkYthWHOkOtZOBDrJEQIatZEEgHxcFMN89HjVPzt6dXZ5enF0yEt7Lecm7JZh3"
    "7vvC5f8DuoQtg1B7jTEO8gmnf5lHWDj900VmdW3GwqgpjJolN2q+ha2t22I/W24ERi1maw"
    "s9ra+wten8pxfNkT3GRZdVrCFVYZ9Ppr0iTaUvbnAI5gapK9dyZeqvjATMU9BBhKnCTVaW"
    "M/yLyDY66HZub8By5QwHg3rM2FZMM0/0g2p/dIZA7UyIqcqs/sMG6odrcmN+EDYhkOWVmM"
    "FonMQjDj4vEHgtwyGCxdmHOUH03IOwkb1tZEdg4LIqt0GeCloRtm+w8VdEDowDLBWEuHl+"
    "nimg4HxJQMF5FGV/Wkq5YzfinGthXjIFaAcxHEIvSUdf6CVCLxF6yY+ml/RsbCecAAg8y6"
    "aTWECbUSPpUsI26Nhkw+wrDdwrD7HwoDQkeOexpsEre3HxoEf4cfH6CChi6kgBbUDUPX/N"
    "4LGABuqBVRIN3Wh97keZV4UOBgMvUGkwOPRPAyT58htPtMX7BTUPg8cLYOpwJclyDzezQm"
    "zPX021hWu/LDJymdrC501uD2iYS7j2V7o/hXa4A+2QST0mt2Rbckw1D9BRvgqC3Tw+Ps6i"
    "tTCydLWFPwxDPtGVlCCJZKh9+gpCfJkB38tUcC/jh4H4VzWnehDm2uBzWDIVfDuH2+Hgoe"
    "SmGMonimOMFZy/J80sM5hRpZ9DacZmMdU93Sor0nOG6hmOCsitIk6l/ABnFkQiimqPr7D9"
    "pgtQYfvduu13f1byfph+y4nnnlp+gxF4cdtvJD5vufU3QFxAMgphxSyTFZP/juG8RMvw6K"
    "uoxmUy9JwssfOcxM08luY857IPe/SVswwXgm6wZzGQ++RrSsRGhK0KCvOy/V37Sz+0tfMh"
    "PbhrfTkMbe9+7t5/8MkDQ3Dzc/c6grzKNGAm+l4ThMe1rmsE0xQ5HeSLAD9kjEVJEX/i7x"
    "b662735xD0150oto+QKubghI8DI1LdvUQ8jma/dJ2dypkKqzqGsuaghzmFgluWUU+wa/De"
    "x1SydCUi4EMKJ42LiGGP+f2nB6LhlG9dQpq6PZsHaVrb9+J0rc9eQogHYhE75Y6LBJr6Cr"
    "3LzzMhmcCz/qUXnD3DpRPLLoKoRbDffgv86M3275oQ6qTId1E21Ufku1gC+NZQFtnqhZNQ"
    "OAnF+AonYdV1qFI7Ccs2xnvvJSwpoPvpJnwgsv5KzNkNnCaNKa2hp/UV6qrpEUs8KWE2PZ"
    "WHcAT1SLcKntew7mdl5OoiU/0wsrDGpkUdvZCZl60xnhFyO1Wuf4mhvw8AcpGvfi+VVpgT"
    "uXQoj76CPtDtK1H8AHBeg0CIqYIwb98iILSYXNKiTNtZocUILUZoMUKLEVpMVi2m5xmx26"
    "8kKf9W+HF9hR4zt4gTIM/ucHM1C+woqo04KzogXPMA79XQsdFgwP0aDZOM2JQcE4UHjL8Q"
    "w/YzvLcebzt96aHdb9/3O917qTcYJN42X1BTkPe+ZRiEKkegIDXQvQ6h8zD7QT+6ctuykO"
    "7YmvpKUODaeSsYv86ddjOeqgsPGXEDfHvexAlcZ+9y8r/dl2APOH2ddZKnKXbpp2OdEUMo"
    "/IEfLV9H+IlajkFM9z/d5BOCkRLKeqLT2UR3rMMGq8hLMc1r4vyDwZejW1541IHCMftaEP"
    "MQWucAsTd+opRMj7ys/wqb4a5CA69IdRtZY31KN1QTw19hVraJvhi5R83Hruh2tlq30Hnf"
    "1lELUOXQyHx6oYxlUMbEZn2d2VymzXlWz6EIRNpaiHnwK5YVziCPwDNyQtuAuQzf5jxyPs"
    "xVhZPxYWF/liXr41l60sezWM5HvqSZlkJz2ZDDXNXD+TxTuMf5knCP86RwD763zxuzFGGr"
    "HtiF5DKdK1JrQJ0okQXQyUBruuzeKCir9iwP2DHG6gFeSNTYAjcwSJhrYr7gFbBnC4UUeZ"
    "m2vskD/T6O5n963fsU+ezRRzVLVbbR/5CmWoXdVxUwmgwdVbNVajWg2bewmwA+ISUzFhEZ"
    "DX6MjARUcJ3kXHgLa3hft4337jVvMVN44Fl9hR3cZqTedXGZjeDe3af9bv8zgkrgmggmH3"
    "XvYgg2IiPVnEC+ViKbxK5zkypGYHKGPK1gvlYcGEVEqKlrE8afZAAvohkwfvc4uXvJBKGy"
    "OTO41bnV7h19uLmrBy9ibd/fPPz2mZvOP7V/Gwy4rVnDli1xFzpcDTs3dT9RDTLn2uj0+C"
    "h4WS2WZQItXLG+wQkHbgD3ytwjSpC4FiPgNr3bZiH0BYzfsj4xWDeP2JsdWVNsIJ42VoVb"
    "bmFt15GlIzI/+ISmuvliiXtiSya3lxxB4jNRmk/CPFuSJN7qbUkK2XoTCq++jqE2zCnOzp"
    "TZThsW0/GRvlafUy/3jPOudcVnyUbXu+TzH83m6em75vHpxeX52bt355fH89s+44+WXft5"
    "3fkAGQtCIxxPYeB9j6VNhN2yOoTQy3ZJjQfh+uFtyTUIIVhmISh8kulrrsIHCEUCkYqNes"
    "Ji93pfAsf0GtpbKU1sG9l1Vh0w7VLS19mPQo+XlgH4LR8u3cBExlGMGcd8bJeaxaCPIgtm"
    "xc0vua9r3OyWxnKt1h1c0gihXGwv4Wc4yoN0AmsFzyAWcoUEv7ks92mJMNfusK4VJTJ24V"
    "HGawAdYhI4Z8FZZB3dcdZRBtw87CI/5iHWHcI+L9ln3L1LkxI+lqtgD3K+Nep5t8pvgvZ+"
    "plMLbLwtTFVZ8sLZ3GCchqybpAG3xmlWg5KpFO5qwgZ9a6J/+0kEJiMseR63nMshwimWg0"
    "g1/ePZDIWl+Ecc9TRLcQ7jZsRCEshJHBHBmXNNt6GeeT7kPZsIaXbN8LdKJOXOCBT7NMtj"
    "rMG+gWyG1Qjf+BVVFS2d7+788PtN0Oq22M+WW1G10eKXrW+OVQ+qyYBUOU8vLAcqNen8uo"
    "glJ76v4hyLJ0BcF7No3sUqouXrpZvgBA67nltPlWDKFRoQzLU/P7CfDqrvbF4FbThQoCKC"
    "LreP2J9cia7iwMxbkVBoMdOzpkR9pkQ5Uily4ycbqD+GVKY8mY97z8ZPFhoM/rLVRT4dU7"
    "f5iKJYaMALmaXlSS2knfWz4oTs8oujthumU42krUlvpL7tDDnF1h44biky7+ztWQNvublb"
    "LYkttTz25kTmyp1B2H5GHrZSXlXdsSQfwJy4p/FX78j59rHnH5C1LIthTnG+vDyGxLj9+A"
    "1zc6znPXukL+xd/K1QUd8QkajjTaRYIUCLjEoio9Lb4VxIRiWRe0bknvkhYI8o5nl2oVHe"
    "Cnq4q7QR3a9bG8UwrznMbs4aNUnbWD7KIUahU5Z6jCcJno3076NHvkMd0pj6vUgoLKc1Rh"
    "yhF6cpyyKr9vRgnThO+SOOetpxynIG3pd3FyLuaypPSP2OMlS2iKnK41rsVIVXXl9yoGJB"
    "UZrw+9RcYYmrOCE/mDdu5XXGutnBmidn784uTy/O5knB5iXLcoH5O6B0D/grMf2DNFm39g"
    "GWCkZ/F+KtgCWVA2GPvILoFmJQZC3aiQ6K9NzLAZbdp19+m299NRItf/8/KOUK+A=="
)
