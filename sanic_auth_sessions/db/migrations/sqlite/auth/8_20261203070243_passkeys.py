"""Passkeys (WebAuthn): the credentials of each account, the single-use challenges of
registrations, logins and re-authentications, and a random user handle per account.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_passkeys" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "credential_id" VARCHAR(1400) NOT NULL UNIQUE,
    "public_key" TEXT NOT NULL,
    "sign_count" BIGINT NOT NULL,
    "transports" JSON NOT NULL,
    "device_type" VARCHAR(16) NOT NULL,
    "backed_up" INT NOT NULL,
    "name" VARCHAR(100) NOT NULL,
    "flagged" INT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "last_used_at" TIMESTAMP,
    "user_id" CHAR(36) NOT NULL REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* A WebAuthn credential of an account: its id and COSE public key (base64url), the */;
CREATE INDEX IF NOT EXISTS "idx_auth_passke_user_id_c8486e" ON "auth_passkeys" ("user_id", "created_at");
        CREATE TABLE IF NOT EXISTS "auth_webauthn_challenges" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "challenge" VARCHAR(64) NOT NULL,
    "purpose" VARCHAR(16) NOT NULL /* REGISTER: register\nLOGIN: login\nREAUTHENTICATE: reauthenticate */,
    "session_id" CHAR(36),
    "name" VARCHAR(100),
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* One WebAuthn challenge (32 random bytes, base64url): single use (``used_at``), valid */;
CREATE INDEX IF NOT EXISTS "idx_auth_webaut_expires_29bcde" ON "auth_webauthn_challenges" ("expires_at");
        CREATE TABLE IF NOT EXISTS "auth_webauthn_user_handles" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "handle" VARCHAR(64) NOT NULL UNIQUE,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36) NOT NULL UNIQUE REFERENCES "auth_users" ("id") ON DELETE CASCADE
) /* The account's WebAuthn user handle: 32 random bytes (base64url), never the user id, so */;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_webauthn_user_handles";
        DROP TABLE IF EXISTS "auth_passkeys";
        DROP TABLE IF EXISTS "auth_webauthn_challenges";"""


MODELS_STATE = (
    "eJztXf9z2rgS/1c0/HLJDGFSQtK+vDdvhqa05V0TOgm5691xYxRbgC9G9ll2aF5f//enlW"
    "3wV2ITTIyrX9ogaSX7I2m9u1rtfmtg15m1enOsG0PzntDGOfrWoHhO+B+JuiYvsqygBn46"
    "+M5YNlUINFUcaMtE4zvm2Fh1eIMJNhjhRRphqq1bjm7CUI0uYjqdGuTIZQQJ8qMHYusTXc"
    "XQBJm2X6rOMJ0SJPr+JzKp8Yh0h6Gbj92j9ukZ0hlijmkTrQXjaqbKB+YdlzPEiI7oeCyI"
    "xmMod2YEYU2zCWOcBC0wQ1BJNN4ZOhC1qmq61PmJoQkfD6PwEzQFPSULPiYZUa+B9zCHLf"
    "QLNnTNe5rFjPcpnom/is37Go8ZUV1bdx4V5uC5tXoa3tPqSTSCFjqfSYDGpfrfLuFzNCW8"
    "nc0B+uNPXqxTjXwlDH5+a0x0Ymji7wYMpOgaUFqubZmMNKA5+WrBy/KHZ0EP/pqhrmHAun"
    "i0xLJoiMZ8EYgf35so0ruAMNw3/1O1CXaIpmDnWSNBQ+teEYNF1rT3MqJcCWhvb/vv3ouW"
    "sHjuFNU03DldtbYenZlJl81dV9daQAN1U0KJDU8cWuTwaP7GCIo83HmBY7tkCbi2KtDIBL"
    "sGbJXGvyYuVcXaFCPBP51/+48WaqYoV4OhctMbKkojsbN8dMI7wS9SOZQcJp06gOi3716/"
    "K0BEaQMGuPjYvT44OTsUEJjMmdqiUsDV+C4IsYOV1YSuUA5NaBTqixm2e9SdC7j7/EkwVU"
    "kC9hB5DHv+6JugHhSsYF8xpADQALL8IDd+6V333/927m3nxxHliF196J37uzfOitInoDHH"
    "XxWD0CnnqOfo1dmaCfmley3m5JU3JybnrR73vfJr2qLqu9hnwVQIfqbMMJulz0b6wo9SbW"
    "cSnl76xacg9zqPwnzWyQHzWScTZqiKwrzkZXkRXjG/Cq/wDeFtn+bBl7fKBFjURRGOfuuK"
    "QJ2krCHmJ+0ckJ+0MxGHqtiS/mrpnOXDpzgB9jsOk6PPScbajlDGwNZ80lbwx3ag3yUzWY"
    "P0sH/Zuxl2Lz9D93PG/jYEXN1hD2raovQxVnoQ5+fLTtCv/eFHBD/R74OrXvxLvGw3/B2E"
    "K5DCTYWaC4VLoyGQguKgKDLLXMTTNpjiENkW5tefvKrsrDrNb0igLjjFUcrd7OLdMlD+gt"
    "qAq1b+CtyTafc3y1O7OlDc8uo6YV1viwpPdbfyE/oNqJCT+1T1BqBKQvvetIk+pT+Tx4R2"
    "EwNUGFZu/U72E9BV6WpF2nix1LjDy4m/uUYM4nhiWvfmovuu56nod1i9X2BbUyJAQ43ZNm"
    "Mly7bJqnl7Hi/BFE8FOPAW/iaatS7J/I7YbKZbjYShK1TXfMLQNV82zWfnygY3xR7zx3J5"
    "mfYUU/2/wkrU+HOdnSbc0gfdNo2tGmtShvjL1Kk01ey5qUaskwTO+ew0Ae3u1KmGt/UKQt"
    "wY/HrVuz5H5oI/0Yh23132r84R1uY6HdHL3uVbqPR6HtEPt/zje46mLmFONUw4q31WUIKL"
    "EEoBbp8EuBR2m5cTppBKgS62paR8LOXjisvHWdzg2cAOYp3VFOAUNlghRWSCuYhlgNBAGk"
    "lVJFzbfEoZmWBFDVrnPHcfzghihEOoIeYQC5kThJFhTnXaRAusOxx/cVINh82qqZEW6jtw"
    "3gxjiaMh76jZOxBHcEyUdvReyihw+v7WdKk4XIezbo086CqBzuGXhRlbmLY3YhM9iOPzfC"
    "fnI5p1dN5ELnV0g5OtLNvjcVM8/HjcvR1+VC7fd5XL7helOxz2+Hf/hvcIr8SavEOV5Dx7"
    "l6rQi6pC8qh0J0el8iBvxwd5HocsvLBjZDWEevtre6LbzFEm/ONrpkjA2VjH6XZoUbEWWl"
    "lsumzDCHYcMrcclkS6T510oMMkMZBBlCwJ5OOyABbS41H7Ved1583JWecNbyKeclnyeg3m"
    "/auhPPL/AY+EmUWos8Ech+nkoX+VZ1ge+mezzPrajKVRUxo1K27UfAlbW8TembC1xa2ha2"
    "1tYZtiCUf/0hxUJXOQ+D+Bc7YOF7SvoaL86vg4j+52fJytvEFdzA5kuNNC1h+/fe1MbKWg"
    "G36yBMhD8jVDP46RbYT1Hgn2vS/DiHAXQHpw2f1yGBHwPg2uPgTNQ1Nw8WnwNoa8zrVgzv"
    "oeUpjHW9M0CKYZfDpMFwP+jhOWxUWChb9b6N8OBp8i0L/tx7G9Bcecg1diHngj3ZMlklaL"
    "/dJ2dspnaqzsWNqGkx6llCpuVWY9xbIhnj6hk2UrEavlEXPRjbFhn/j9z9fEwBnfuhSn4D"
    "1bB1la2/fydK3PmLF78thIqFlBRfMJDcvy2uWOH/AruetyOoo4K9cIdXRsCD8DGty5Pxfn"
    "/rrGizR0MbjpIcu9M3QV8VHQwR1m5Kzj2sahuIbfiOG69QFGFN4SulGxY4IrAtOnFDuuTZ"
    "DojdhN0RFGEwNPESMOWvD2nBY7QQu04B2gYLoYOsAjCq35fCAfP/CbsMkEbmn5vgu6A2We"
    "Sq4dPjMYgLylXwcFd7WiU62G2ZpYgrB+Klknn07WWaeUdZJamccaFJ8T5lXKolS1sC/sWi"
    "kDNqsI/pkiDujTzPPiKF1tToz/0W6fnLxuH5+cvTntvH59+uZ4eXScrFp3hvy2/wEUsgj+"
    "SQ2NPwBllmmnHdX/52ZwleFZFaGKC+q66qD/IUNnpc1BiMffubrh6JS1YLyXYPOA0vpNEV"
    "//se8BdBDfFL6Hj4C0APuPke3QV8UL5aR4D1DWLJTttQKCG5ed3BTXt7X2oQjdDu1Dy5K9"
    "NRBV35LfCOlHe2pw9jWQgos6RCWXdG1tntL8tR2jp4GZo2wYsSVOKz24qmPnlL48m0yq9O"
    "X54Xx5PvvXu64JI05GxNqUNs0cVmcgUWyg2TyErSDPEUJ2XVjXFBv0lkeA8LUlRI6V1lx5"
    "e61qdlx5e20N4FtDWcaelBdRZOxJOb/yGoo0UkjVVaquUnVNUV2viWo+EPvxwtRII6G0Rm"
    "qbT6irtt9YESFG8umpA67YRfRIrwsRpaQZxFgR6iJX/TBi2ODLoglOTH7slWR8l+10ubkX"
    "UiAHSBekvVVaYU0U0qH89rXwgSlbiYJ9WNggECGqIczbtwhILaYQt6iSOCu1GKnFSC1Gaj"
    "FSi8mrxdz4RuzeAxEPHlNjotXNJ/SYpUWcQPP8B26eZoFdTXeQIEUHRGgecHp15zpoPBbn"
    "Gi2bTPiSnBFtPD4ExcNygniN3dt3/aFy3Rv2rob9wZVyMx6n5o4saSiIYtm1LEK1I1CQWu"
    "jKhGiSsPpBPzr3xmLIdB1DfyAolESSifshzFd2oIbrVzavvuONW3C25y+cUHJKj1L87b0E"
    "rxDtm/whRdAxr/1iZvLGfCd5aSuhoybCI8pci9jeL9MWC8K7lYKpSR/npssOW7wj3y9U9C"
    "Tox+MvR+9E4VEfCmf8a0HsQxhdAMTfeEQpWRz5MTw1vsI9hQZekZoOYjNzQbd3WaUpNLXn"
    "6IuxrAgBdmWPs9W+pc77sge1Bd2td+9nvcfKmBTWN1nNVRLOq+0etz96doFsCOGvWF44wz"
    "QSz1gEEEvx84EX4fNRqjpEXoky+85pDmbfOc1k9lCVksWDaylpl/qycY5S1Q/n01y3O07X"
    "3O44TQsnJGT7ojdpYmT1A7t9mmdV81ZrUh0n1vVSkdoA6mdcyP7xgDZM1csPoupOyo3sbL"
    "AThPUDvJRLYivcwCBhb4j5ilbCni/UnmcmKCjiRamkkBdj0ly/T6KZfZs9aF+Ne+ww7F7f"
    "Y08cLryENXxoOtZ7L2lDwhQeqms+YQd3eFM/+UNuI7ifyWg4GH5GkZhC58LMy2dkottzAp"
    "Zi1SZOEFUITM6QdwnM15oLs4gItU1jzunTDOBlDAPG7xvRnAnLNaGq/WgJq3O3d3P04eKy"
    "GU6r1Lu6uP7tszCd/9z7bTwWtubVbUZI9LQ0dY+owTcPc9DJ8VE49RRWVQIjnPNnAw8HYQ"
    "D3yzwXJcjlhBFQ237uKLj6AsZv1Zxb/DGP+JsdsQW2eHs+lA45q2BvNxEzEVk6PqGFad8z"
    "mfWpYnx7jQuSWInKchEWEUnSaOsnkpQiehMKr76JoTZKKX1nqmynjbLp5EyvC72UpN0o/F"
    "LFZvdlAjD532PlOcxuXR+S6eViegGEm19vS+9BMsEqM0F5Jpm952rsQCgDVNds1lM2u//0"
    "FTiY3kB7q6SJ7Vl2naccTAeUDE3+T6nupVUAfsvOpc8wkQkUE8axANu1ZjF4RpllqebmFz"
    "LHulFEDVkS1C5YSfs0jzscb7VG5Ug4xMFVLi5LBBGOiiCdQlpDH8RX7Td5Dtzab7IP3KAu"
    "LQ90UW+JKNUOo4+WxTJ2caKMNwA6QiRxzoOzzGq14wivHLjltYvimEdIZWTdYrg/EFvnox"
    "SNZRyjfGnUi4rKL4L2foZTCwneDFNdVfzrbN5lnJZq2qQ1N7lWxVqULJToo6YI6Ftj/dsP"
    "IjCfYMU/cSu4HWKUcjvULqy3TGUoLcVy1gtYigsYN2MWklBM4hgLzp3LsAf9LOMh79lCyL"
    "JrRr9VMuljTqD4p1mdYQPkBvI8rCb4IuiormiFc1JuilMov0tdIUoNoP4cvJJB3OsIXTKY"
    "36aYxWMI1hGtQMd6Dk5w+HTj9VNXmBbkDl6VbonLB0lwi7D6ajoUPTMZcjjc/tJnPxvZ4L"
    "z5KXyjdwVqAmzqepxhqhlpNuSCiAUrEvbyx2WfNUGu8AF7wM1Sz9lDrO6JaEwr1po3nuyU"
    "Eu1Ip8i7fNpCwxnEgRWRkLwkJT8xNB7/5eirYES26YiZRYl7FVw+ygoyW8o4m4cUihxqRB"
    "JrbTHmT/YgzW2HFyq395Cv6nN6lY4aL+qo4W83T7ZX+FYrYqxPJa6dA8f2wxnxnfKgmy5T"
    "AgAL4p5FXz9//e1jLz4gG5llo5TSOb86Vtik8f0FA5tsdvR4S+/5uwSiUFnfEBnl5EW4WC"
    "lAy3BUMhzVy+FcSjgqGbhHBu75IWCvVsLvitrCayGI7lfKSznNG06zF/BHT9M21s9yhFDq"
    "lJWe43nKmVD299FvvkMd0loET5FSWE1rjLx/IF1Rq8Kr9tQrUfqi/oiznuWLWs2oBdWVQm"
    "Syq+rEI9hReM+k21PCwSLVM2qtm0WGa1Y+j4tgOLQkRgcnbWRjqplzdPfoENZEd5iRs45r"
    "G4fnfn5eCOOJDkRmKGDQIkXVAzY8vBPuFtseZERd6ugGGo9Xmup43BQhNyFAqOXafEMRCB"
    "3aROSr6qeGgnCc5lSnTRTkogpnvuKF2BlRzO6JJlrrjoy3WRVm2FzjR6CGd0peFSlCVMMg"
    "BCV4DnibKh3kHnXnia9O1HFgRV5luBvXvQ/9m2Hv+hzZZKozh9gj+mnwoX917jGPEb3uQS"
    "RhyL13wSUtaBeKY0ziDDCXpfcsj6E3Ls6F7LxnMj57+fHZi57o1zdHSSknE/tlrq5I7LOK"
    "64Up5gCZ27zW8yuNfNk8dD/NPZXObb4/O3k/rD3VxHO/jT2hG0WZ1p7oraN85h7x0t71p5"
    "wGn+EqdfdPbGWVEZYQryMI+BKxy6CDlV2miSikJVlZT3QNcpUkTD7lDDOimEYzxvDO/XTq"
    "cOXV1hDDjwyyfM8gPYxIRx7OVi6tOVVhds011pys+3zrokoGFPL+x5NWHCmfSflMBhF/vn"
    "hWRKCQQcTLkeOeIZt1ia2rs6Q85pevk8FWLSoTRDwz41Hq/k3JcuTPRWXXj5/jqP2q87rz"
    "5uSss0xttCxZl9EocEXKFjq4uBncaM8rdYRIqnyeUaVrQ7ClCiDsN68huqXYz/mITupNoe"
    "wMsiGS3SeRfZnvfD3SxX7/P/CJZDs="
)
