"""Email verification and email change: ``auth_users.is_verified`` and ``auth_email_tokens``.

Existing accounts start unverified (``is_verified`` false). ``auth_email_tokens`` holds the
SHA-256 of each verification and email-change token, the address it was mailed to, and the
security stamp of its account at the time (the token dies when the stamp changes).
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_email_tokens" (
    "id" UUID NOT NULL PRIMARY KEY,
    "purpose" VARCHAR(16) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "email" VARCHAR(254) NOT NULL,
    "security_stamp" VARCHAR(32) NOT NULL,
    "expires_at" TIMESTAMPTZ NOT NULL,
    "used_at" TIMESTAMPTZ,
    "created_at" TIMESTAMPTZ NOT NULL,
    "user_id" UUID NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS "idx_auth_email__expires_24d38a" ON "auth_email_tokens" ("expires_at");
CREATE INDEX IF NOT EXISTS "idx_auth_email__user_id_0e5fd4" ON "auth_email_tokens" ("user_id", "purpose");
CREATE INDEX IF NOT EXISTS "idx_auth_email__email_c305b3" ON "auth_email_tokens" ("email", "purpose", "created_at");
COMMENT ON COLUMN "auth_email_tokens"."purpose" IS 'VERIFY: verify\nCHANGE: change';
COMMENT ON TABLE "auth_email_tokens" IS 'A single-use email-verification or email-change token; only its SHA-256 is stored.';
        ALTER TABLE "auth_users" ADD "is_verified" BOOL NOT NULL DEFAULT False;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_users" DROP COLUMN "is_verified";
        DROP TABLE IF EXISTS "auth_email_tokens";"""


MODELS_STATE = (
    "eJztXW1T2zgQ/isefzk6AxkICWW4m5sJkLa5lqQDoe21dIywlUTFkV3LJuQ4/vtJsh2/J0"
    "4ah9inL1ci7Urys1p536x7koFjj2rtMUB637iHWD6RnmQMxpD+kejbpU2m6fewnza402ek"
    "CmSkis1oCSe+I7YFVJsSDIBOIG3SIFEtZNrIYFPJLYkgPNThnkOgxNn3HqCFBkgFjEQyLK"
    "9VHQE8hBIf+3fJwPpUQjaRrt619urNIwkRidiGBbUam1czVDoxHbiYKW7wDb695Uy3t6zd"
    "HkEJaJoFCaEs0gQQiXVCjQ4m7fBeVTUcbP9GpAGdD0jhFexyfgwndE54g10CdzGvatInoC"
    "PNXc1kRMfka6KPYtGxbm8JVB0L2VOF2GBsBquhIwUr0aA0QVSSDBoHo58OpDIaQkpnUYC+"
    "fafNCGvwERL280keIKhr/G+ZTaQgjXGajmUaBMqMHD6a7GHp4ok/grdnsKPrbF9MTb4tZE"
    "5MNwH/8bwrRUbnEIbHpn+qFgQ21BRg/9JMjNC8V/hkkT3tPgxvV3ze6+vO+RtOyTbPnaIa"
    "ujPGAbU5tUcGnpE7DtJqjIf1DSGGFltxaJOzpXmK4Te5uNMG23LgDHAtaNDgADg6UxX5j4"
    "GDVb43+UzsP40/vaWFyBSl2+srV+2+osgJzfLQCWuC16RSKClMCNsM0adnd9wAEN4qswnO"
    "3rUudw6PXnEIDGIPLd7J4ZKfOSOwgRIINEA5JNAo1GcjYLWxM+Zwd+hKAFZhAvYQewx7uv"
    "RVUPcbAtiDA8kH1IcsP8jyp/Zl583fJ646T28wRaz7tn3iaW/8KEoXgDwGj4oO8ZCeqCfS"
    "wdEcgXxqXXKZHLgyMejZ6p6+Xa+nzrueuZ75ouDnmTICZJQujfSNH+VajxAWb/3lRZB7n0"
    "dhPmrkgPmokQkz64rCPDvL8iIcHH5bvMNXhLfezIMvpcoEmPdFEY6+65aBOslZQcwP6zkg"
    "P6xnIs66Ylv60UT0yGev4gTY5xQmG41hxt6OcMbA1jzWmv/HeqDf5GEyB+l+56J91W9dfG"
    "TDjwn5qXO4Wv0266nz1mmsdSd+ns8GkT53+u8k9lP62uu242/iGV3/KzOumBVuKNiYKNQa"
    "DYHkN/tNESlTE09bQcQhtjXI1xPetmhWleQbMqiXFHGUczNavNkDlD6g1qOulbcDSyJ2T1"
    "kWabXvuOX1dcK+3hodnu1V5QX+DXMhB/ep7g2DKgntG8OCaIjfw2nCu4kBygMr194g5QQ0"
    "aA12pAUmM487vJ3ok2tQh7ZrprWuzlrnbddFvwPq/QRYmhIBmvUYdSPWMqNNdo3r43gLwG"
    "DIwWFP4SnRqHYBx3fQIiNkyolAV6hvd0GgazwjzRfnygY3JR7zbba9DGsIMPqHR4nk7/Pi"
    "NGFKD3TL0NcarEmZ4oeBsAjVlDxUw/dJAud8cRqfd3PulOyq3pIQy73P3fbliWRM6IpucO"
    "v8otM9kYA2RvgGX7QvTlmnO/INfntNX74n0tCBxN6OEE6gZ0tacBFGYcCVyYBLOW7znoQp"
    "rMKgi6mUsI+Ffbzl9nHWafDLwPZig1UU4JRjcHsckYgMEq5IXEJznZHwcxbgjsTcDmGtv6"
    "i1zv9NtdbTcfbpK5jwONjfz2No7+9nW9qsL5Zk0p3hUqklj75yGdJC0A2vLAFyHz7a6SDH"
    "2FbCukQZhvaXfsRJ8SHduWh9eRVxVD70um998pAIzj70TmPII6LQNwJ6SDk8Tg3qxQOccU"
    "6H+WLA31HGok4Rf+NvFvrTXu9DBPrTThzbaxYs2DngcqBEyLUlOt1+DPBypV02es5U12l3"
    "TG1FoUc5RahmW6SekmLlq084v9lORLA9YmmD2DHsMb95fwl1kPGuS0lUlGwfZHlvz8X5Wh"
    "8BIRPD0i4hgXZGlXMKze4Cv8v0WBSL8axe9szZc5QdzysFjsep1z8DK3kuoNpYuJMv6k6K"
    "4tCNFIdWqHRxbSiLekVRryjqFYV8Rb1i1X0oUa8o8rEvDmg56xU55gln1ZfEXPeUPY9IB1"
    "bcf3vpr862yGsr5Jsz5uNSi8IP9SyDdAprFZOw9eM8acL6cXaakPVFUR8gi9jKsqnuKNcG"
    "S1KLOjI2kJDVwQpAR5gEznlwFunXDadfKXDEMaGVbvkuwjzCukHYZy1lxt292wSmvCwXwR"
    "7mfGnUlzWVXwTtcsaVQ4Y3ARipCvdXiPftUE2lbmltbFAPjNQwnCjRpaYY6Fscki5XMEtU"
    "gYgqECH1oqtA4rekrVoGEr2YrWQbIbMMJKxIol4mJ1CZpSirQpZeDlNF6Hyz41fQYvHYK3"
    "ecKsFUbFjbByw1uh1Cc26QOyy9xWVXPQwlgoYYansISxp8QCqsSf0Rq5AaUNUZuTVS/GbF"
    "HzYKCpwsw3Yvi1SNsQksuAewtkcmwJTu4TR55WSB86x+f2MklMBDOH5KfI2XBGRPssuD/G"
    "ucqtjRQxUh4m6D0qZHPHVzX4gKVbVlXORU5sqlTdZf7EY15QEZDlF8AJfEPYu/Cp/9FI09"
    "f4Gs5HpGOUWJ1PZ4mskAg2tRLJ23ibFtMOB3je/ps/im0GbyOPVmM1c+uDknH9xMfsDIIU"
    "x7ey/EPfUlXoFTrBCgkal4N6ovg3SUq3pQN/Ig3cgGupHAmTsI1EXDKS+MbJyjXNXDuZkr"
    "B9yckwNupuTaDfe+f0VF9nQZtBOM1QO8mOKGGW7s/71grYh5wCtgz19TsmKVfpy3gimQKh"
    "mi5friRoh5RTGL6iVxecS26FVJM8iibuD/KPWsugHx5ZP48kl8+TQ3RdyCFlJHciI77LXv"
    "zkkMBxRb8+VTB2dcbZaqxciNq4S3mye37U0qDdkS9uoHjdeN48OjxjEl4cuctbyeo9++BZ"
    "SdyXuAll8QkNeFD7FU8MObQqKuTKWWQNgjryC6hQRG6Ix2aqD1r6teN8OcD1jiVh1Sbelf"
    "SUckcVaUAO054DIwIqZb4vrD+E2HMaOADXCaZhVs8jX2/B9G8nDQ"
)
