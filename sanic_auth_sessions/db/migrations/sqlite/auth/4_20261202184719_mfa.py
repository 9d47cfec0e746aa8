"""Two-factor authentication: a TOTP factor per user (encrypted secret, pending enrolment,
last accepted step), single-use recovery codes (salted hashes), and the pending second steps of
logins (hashed ``mfa_token``s). ``auth_users.mfa_enabled`` says whether a factor is confirmed.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_mfa_challenges" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "security_stamp" VARCHAR(32) NOT NULL,
    "device_hash" VARCHAR(64) NOT NULL,
    "first_factor" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "spent_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* The second step of a login, waiting for its code. Its ``mfa_token`` is stored hashed. */;
CREATE INDEX IF NOT EXISTS "idx_auth_mfa_ch_expires_ecc00b" ON "auth_mfa_challenges" ("expires_at");
        CREATE TABLE IF NOT EXISTS "auth_recovery_codes" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "salt" VARCHAR(32) NOT NULL,
    "code_hash" VARCHAR(64) NOT NULL,
    "used_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* One single-use recovery code, stored only as a salted, keyed hash. */;
CREATE INDEX IF NOT EXISTS "idx_auth_recove_user_id_6ebad6" ON "auth_recovery_codes" ("user_id", "used_at");
        CREATE TABLE IF NOT EXISTS "auth_totp_factors" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "secret_encrypted" VARCHAR(255),
    "enabled_at" TIMESTAMP,
    "last_used_step" BIGINT,
    "pending_secret_encrypted" VARCHAR(255),
    "pending_expires_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL UNIQUE REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* A user's TOTP authenticator: the confirmed secret, and a pending one during enrolment. */;
        ALTER TABLE "auth_users" ADD "mfa_enabled" INT NOT NULL DEFAULT 0;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_users" DROP COLUMN "mfa_enabled";
        DROP TABLE IF EXISTS "auth_mfa_challenges";
        DROP TABLE IF EXISTS "auth_recovery_codes";
        DROP TABLE IF EXISTS "auth_totp_factors";"""


MODELS_STATE = (
    "eJztXW1z2rgW/isaf7ntDGES8tLc3Dt3hqS0ZduETkJ2u7vZcRRbgDZG9tpyKLeb/75Hwg"
    "a/gk1sCq6/tETSkezn6O05Okf+pmCXj5qXZPxAbGdELeUMfVMYHhP4EctrQJJl+TniT44f"
    "jHlRdTwv6siyDw63scYhf4ANh0CSThzNphanJoNU5hqGSDQ1KEjZcJHkMvqXS1RuDgkfER"
    "syfv9dcR34BZmmPcSM/h/LWv74A1Io08lX4ohi35QBJYYuf4dKqlQXwrYJDyxkyFfLJo4D"
    "ObKsSPLe23sGPrXkqymyMLyJ/OO5gVY18adJGdFVzF/UjihoPaqyqZBWZo3IdNWXvb3tvn"
    "0nSwo8H1TNNNwxW5S2pnwEz+cXd12qN4WMyBsSRmzMiR7Qk3g0T7V+0kwlkMBtl8wx1xcJ"
    "Ohlg1xDaVv47cJkmEEGyJfHP0f+8RwsUU9WrXl+96fRVVcnROTSAEmCijAtEvz3P6l0AIl"
    "MV0cDFh/b1q8OT1xIC0+FDW2ZKuJRnKYg5VhfqXKAs+0kM54sRtjvMHUusu/AYmGkkhrkv"
    "G0EdHnodvP2EBeCL0TSHcjb0ckKs9H656lyfIXMCT3TH2m8vu1dnCOtjyu7YZefyXGTOar"
    "5j7287N/0zNHSJw5VMilHG+KtqEDaEueIMHZwsUdTP7Wupq4OZrkyYNmbzypWX05JZz3L0"
    "+SpajLOYnt4CvpyOSfKYCAlGlKR7kk3/R1kq8/t3CSNCsQnWe8yYeoNzCfD97iWotX35WT"
    "Q3dpy/DAlfu98ROS2ZOo2kvooqaV4J+qXb/4DEn+i33lUnOuzm5fq/iXlULBqmysyJivXA"
    "POKn+qiFdJ4w3WadCRNEi5wWv7POXzILLuAVS2xOWAMiNZwAp1i3B4+Ja4q/gQlD+860CR"
    "2yj2QaW1UigMr92K1XyW4CukhdDHgbT+bbnGB3gjfXiUH4bOVt31y033aU1NngxcD2IpVV"
    "FOCEaTAZaNGRH7D2OMG2roZ6tMgxW2YkZV42njVujaMpmOGhBEm8jbcYANkYYNhiGWLTQJ"
    "Q4FQnmNlaRkQFWNb90Nj6i9EcEOQQg1JHDiYXMAcLIMIeUNdAEUw74o4FpI8odpJk6aaIu"
    "/Lq/F21x85Gw+3tEHZCFnqejEXZGRG9GN0vltHIHW7Zz04U6uYmAMyGdPFGNiMrFXxZ2nI"
    "lpz1psoCdsUB1NRtQgshkx6v4l2oDncm3KpyqMlbElG7pjogKTiZLwfA4aY52gCeWjBnIZ"
    "pwaIAcmhMA3Clur+viEf/v6+fdv/oF6+a6uX7S9qu9/vwLp/AzWKV3IaUKFGJDYJXC/C6W"
    "oq9F2pkOxzquhnyYQoGe2wVDFUaDXeZe6qQ3Tm5CgDnTk5SqUzIiu89woPvTxQxyU3xzw3"
    "BvhhKwPgh61UwEVWGPDZDJm7Y0fEKgh18X17QG2HqwNYfM2EHXA61lG5DVpUrIle1jRdtm"
    "EEc07GFnfiSHcZTwY6KBIBWWwlSwJ5vyyA5e5xr3Vw9Obo9PDk6BSKyKecp7xZgnn3qh8B"
    "dLG9yWtqCktuxta0yUVxR0xLPkhLbUuORRhfQ8dBuQI07KlvW5aGKmlYs4nAfQ0dhyVrm/"
    "G2qD2Lzbg2atZGzS03an4PW1vI3hmztUWtoUttbUGbYglH/7U5aJvMQfL/GM7pHM4vX0Gi"
    "fLC/n4W77e+nkzeRF7EDGe4wl/XHK185E1sp6AafLAZyn3xN4ccRsbWw3qGNfedLP7S58y"
    "F9ddn+8jq0wfvUu3rvFw+o4OJT7zyCPAUWDFPfU8LkcW6aBsEsZZ4OykWAfwDBsmYRv+Nv"
    "FvrzXu9TCPrzbhTbW+GY8+pA6gEK0dleIm612C22s9F5psJkx9LXVHpYsqa426L1BMuGfP"
    "oYJ0snEYvuEXHRjUzDnvC7j9fEwClrXYJT8I71gzTW9lwe1/rsHb9fE4fwvjgZVWKMK6FM"
    "YwXv8k/1VVvIzJwDMro6tJEDGBlkD7gpkuJIiv8HmTBCpFPAzYf2Xuv4ZOFr0EQ/S78BWS"
    "LqPKBEsC++hTuW6J+A0twTau+CXaCTtXdB7V2QbxUoDOXiXQrqg8If4RgJlqO1NthOkbvr"
    "HbIm7Jp+d4s41xyqIOZcHxPWx4T1MaESoa7XRDOfiD29MHWixEhrKLexgq7aXmFVuoBn46"
    "k9IHYhHjmrQnqRN3wfeEkXgfph5GADukUDPZKp5xsf978vpsrVxDIUJxzQrb8PqKODd5a0"
    "ij6Ri0N55St4Blo8iRLjMLdBICRUQZiLtwjULCbXbLFN29maxdQspmYxNYupWUxWFtM3uf"
    "VuFkYU4zCBvMYKBsOhqBeOlPmczYut7ff6n5GohDBONQw1nMmTK8BzQO0xUAuHwMTLGwgz"
    "HWiHRZguIoHFyZbuCs0gwmzTGIN8nNOU04wIKr6RxYEI2QRyNHtqQY9Fr9qdm733F5eNYK"
    "Bv5+ri+tfP/W7vSv3Y+fX+/nUTcg3scFVuGkTo8fzE7o4Z0PUdjg7394LB0FjTiGjhDJ5N"
    "7OlEcT9tRspEdDFGQtr2opnFYR/Cd0wzxxY85h682Z4zwRaUh6aoiKIWcx1wOxOROdVDE9"
    "N+dOo45K2ae5eSLtkT1XknzHmIFZOtghNfmCS0jo8zsAQolUoTZF7kTIuJV19nHxmWrNnC"
    "NrOF8DQd1/Q5HaYGj8Zl1woh3TLtekGk/261Dg/ftPYPT06Pj968OT7dn0eTxrOWhZWed9"
    "8LH82QhuNOm956rL5ksltWRz3pZZr0fAjXP9BPrqGeBLd5EqxNJuljrsImk9plumJaT3OZ"
    "3k5D2Xf1OyzQTJbHrrPKpNZjpG/CP6Ua1LYB+ILNaS8wkUkUY8YxH9ulZjHxjHXcb8XNL2"
    "SMqZGHhswFKuee3TrOchoLpZZQjth57Owix3lMRx6kE0QreAR+0DrNEg/cOk2PBxZ5STeT"
    "5Y1pD0tt8FaysqaMDUReSytRXqBDQjXOWXCu46w3HGcNwDmuRezknewqzEOiG4R9nrKzuO"
    "9mSFNgK+hgRjVV7qAdzwm0qZk2aY5N2Oc7TUYmavhRE7aMhU1GxTvyiQurvTOgnOMiIvm9"
    "h0VeLlNf97BVsWc7asWqbZc/otbTbJf1dQ9FX/cQXarCX4tYG6vIRyqqiFbqvRPrgpZ890"
    "UVoYvHQK2LWTT0qopo+dvil+AkLNg3s3qqBFMuX9ngdRtzD9Z0UP3Tl1XQhj1nd9JvIRnY"
    "XIcmfudKPDsJ9LylRyjBnp41KnLIiL5HmfepnyYSHxayyQAm5dHsqh35SZ8/OV3ck2ObXG"
    "oUxXxlH8k0LVSylHbWj58MGaoWvmcvjKiMfNc1vZGGPEIqsKlyaw/4H9UBpzt7+OYNt9lW"
    "S4WhlsfclShcuUO54iMkYaQ8UdN1VB/AnLinyVfPB7N47OUCspZhIyxZO1xujx0jbr7yvq"
    "WV91QwIrZB4/0te4R38bdCmzklLMXB2YMwafVeiXviIl6BWawUoKklBoTYc+VBOixVPaiP"
    "siB9lA70UQxnSRCAorFcF3OEpaqH83EmD4PjJR4GxwmeHKY2+3ywRvk0D9oxweoBXo7rzB"
    "w302XcXhPzhWwNe3aPpTWvSYnKVvCArUob0d26uLVW85pqrn3jaqeUbRlXO+qfUHul/Iha"
    "T/NK2c6Iuu1dMeurp7YnVm5DV0+1iU21kRI7HfbSG0sOhhcltiauLvUSkMRRnHDxh6e37T"
    "1UKuTb8ekneU/E9h0CslL4gEgFw7pKsbqKIZUDYa94BdEtxTACLfJEQ+tPN72rlO38QiS6"
    "q6MaR38jgzpZLgnaNrSXgCvACG3dYl/RjH4wM7IpEBWcvzTS/qXL2PM/kbC2xA=="
)
