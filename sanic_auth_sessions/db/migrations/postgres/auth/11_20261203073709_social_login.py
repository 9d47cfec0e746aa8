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
        DROP TABLE IF EXISTS "auth_oauth_states";
        DROP TABLE IF EXISTS "auth_oauth_accounts";"""


MODELS_STATE = (
    "eJztXWtz2kgW/StdfBm7SqYSjJ2sd2uriEMSdsYmZZN57DAlGqkBjUWLVUsm3tn89+3bkk"
    "BPLAHCQukvfkh9u6XTD/U9fR9/NbDrzJrdOTbMgfVAaOMK/dWgeE74H4l7Cr+0WAR34F8H"
    "j81VUZVAUdWBskwUHjPHxprDC0ywyQi/pBOm2cbCMSxoqtFBzKBTk5y5jCAhfvZIbGNiaB"
    "iKIMv2r2ozTKcEibr/jixqPiHDYej+U+esdXGJDIaYY9lEb0K7uqXxhnnF5TQxpEM6Ggmh"
    "0QiuOzOCsK7bhDEugpaYIbhJdF4ZOhF3Nc1yqfMDQxPeHkbhJ1CEPCVL3iYZUq+A9zCnTf"
    "QzNg3de5rljNcpnom/is3rGo0Y0VzbcJ5U5uD5Yv00vKb1k+gELQ3ekwCNS43/uIT30ZTw"
    "cjYH6Pc/+GWD6uQrYfDvX42JQUxd/N2AhlRDB8mFay8sRhpQnHxdwMvyh2dBDf6Yoa5pwr"
    "h4Wohh0RCF+SAQ/3xTUKR2AWG4bv6nZhPsEF3Fzk4tQcHFgyoai4xp72XEdTWQ/fKl9/6D"
    "KAmDZ6xqlunO6br04smZWXRV3HUNvQkycG9KKLHhiUODHB7NnxjBJQ93fsGxXbICXF9f0M"
    "kEuyZMlcY/Ji7VxNgULcGP9j/9RwsVU9Xb/kC97w5UtZGYWT464ZngX9I4lBwmgzqA6F/f"
    "vHrXgIirDWjg+lPn7uT88lRAYDFnaoubAq7GNyGIHayuO3SNcqhDo1Bfz7Ddpe5cwN3jT4"
    "KpRhKwh8Rj2PNH3wb14MIa9vWCFAAaQJYf5MbP3bveh9+uvOn8NKQcsduP3St/9saXovQO"
    "aMzxV9UkdMpX1Cv0+nJDh/zcuRN98trrE4uvrd7qe+vfaYlb38Q8C7pCrGfqDLNZem+kD/"
    "yo1H464fmhX7wLco/zKMyX7RwwX7YzYYZbUZhXa1lehNeLX4VH+Jbwti7y4MtLZQIs7kUR"
    "jn7rikCdlKwh5uetHJCftzIRh1uxIf11YfAlHz7FCbDfc5gcY04yxnZEMga27os2gz/2A/"
    "0hF5MNSA96N937QefmM1Q/Z+w/poCrM+jCnZa4+hS7ehJfz1eVoF96g08I/kX/7t9241/i"
    "VbnBv2FzBbtwS6XWUuW70RBIweXgUqSX+RZP36KLQ2J76F+/86oys+rUv6ENdcEujkoeZh"
    "YfdgHlL6j3uWrlj8Aj6XZ/sjw3qwPFLa+uE9b19qjwVHcqP6PfgAo5eUhVbwCqJLQfLJsY"
    "U/ojeUpoNzFABbHyxa/kOAFdX12PSBsvVxp3eDjxN9eJSRxvm9a5v+6873oq+hhrD0ts62"
    "oEaLhjtazYlVXZ5K15ax6/gimeCnDgLfxJNGvekPmY2GxmLBoJoit0T3mG6JqviubjubLB"
    "TeFjfl8NL8ueYmr8V7BEjT828TThkj7otmXulaxJaeJPy6CSqjlyqkaMkwTO+XiaQPZw6l"
    "TDm3oFIW70f7nt3l0ha8mfaEg77296t1cI63ODDulN9+Yd3PRqHtKPX/jH9wpNXcKcalA4"
    "63lWcAcXEZQbuGPawKUst3lXwhRRuaGLTSm5P5b744rvj7NWg52B7ccqqynAKctghRSRCe"
    "ZbLBM2DaSRVEXCd5XnlJEJVrWgdM5z98GMIEY4hDpiDlkga4IwMq2pQRW0xIbD8Rcn1XDY"
    "rFk6aaKeA+fN0JY4GvKOmr0DcQTHRGlH76W0Aqfv7yyXisN1OOvWyaOhEagc/ltgxpaW7b"
    "WooEdxfJ7v5HxIs47OFeRSxzC52JrZHo0U8fCjUefL4JN686Gj3nR+VTuDQZd/9+95jfBK"
    "TOEVaiTn2btUhV5UFZJHpQc5KpUHeQc+yPNWyMIDOyZWQ6j3P7Ynhs0cdcI/vlbKDjgb67"
    "jcARmVxVIva5kumxjBjkPmC4clke5RJx3osEgMZNhKlgTyq7IAFrvHs9br9pv22/PL9lte"
    "RDzl6sqbDZj3bgfyyP87PBJmC0KdLfo4LCcP/avcw/LQP3vJrC9nLElNSWpWnNR8Ca6t3+"
    "E/O54HRiPBtUXuKs9wbZb46Xtz5PdxsTQDm8jQ+eeTa6/INOiD5xyCBSF15TFXtvXIiwA9"
    "BQ+IMNUFZcXc8Z9Ec9BJv/f+GpgrdzwaKQmyrZxmhvSj4Xxyx1DanRPb0Hj9p000iNbk+f"
    "wgbIMjyyOxw944qSYOgSwU8FsGI4K17cOqQNzuQXJkL+vZEeq4vMptWKaGLML+CZtgRhTA"
    "OCRSQ4hbFxe5HAouNjgUXMRRDoalWth3Iym5FeYVU4AO4MMh9ZJs9KVeIvUSqZd8b3rJvY"
    "OdFAuA0L18OgmDsjk1kj4lfIOObd7NgdIgTuXBFx6UhpTTeWya8Mq+XzzoEYFfvDWBEgl1"
    "pIQ2wOtevGbYLKCJ7oGVRGPPW1+co6yqQiejke+oNBqdBtYAaWf5zSHtiOeCmsdh8wIYOk"
    "JJYp5xM7+IndWrGY482q/KGrlJbRHjpvAJaFRKHu0/e/wptcMDaId81ePrluaorm0UATou"
    "V0OwW69evcqjtfBi2WqLuBmFfG7pGU4S6VAH5WsI8dsc+L7NBPdt0hhIfFULqgdRqR0+hx"
    "VTwfdj3A6Gh6oXYqjYUpwQrOH4fd3KM4J5qWw7lFZiFFPL163yIr0SqB9xVEJsFWmV8h3Y"
    "LMhAFPXuX8n9Zi+gkvvdO/d7PDP5OKjfauJ5pMxv2AMvyf3G/PM2s7+hwiUEo5AsZpVYTP"
    "E7gfMGLcMvX0c1LhfR83oDz/M6SfMw050W4of98rVjhktBN/xkCZAH5GuGx0ZMrA4K86b9"
    "XffXQWRrF0B6ctP59TSyvfupf/sxKB7qguuf+u9iyBtcA+ZL32PK4vHOskyCacY6HZaLAT"
    "/mgmWtIsHAPyz07/r9nyLQv+vFsf0CoWJOXot+4IUMby+R9KM5Ll3noOtMjVWdhb5lp0cl"
    "pYJblV5P4TXE0ydUsmwlInSGFA0aF1uGfeEPP94RE2d861LC1B3ZOMjS2r6Vp2t9xow9kK"
    "dGQs0KbijPaFgLr1xua/9fyBiMdyjiS7kwxcemiHxBgywQV8JSxdCFVcl1/76LFu7YNDTE"
    "W0EnY8zIZdu1zVORGKIRw3XvDQwpvCVUo2HHAmN+ZkwpdlybIFEbsRVREUYTE08RIw5a8v"
    "KeHYxfAi2FDY7fXQyd4CGF0rw/kI8fGNbYZAJ0rW+BYzhwzVPJ9dMd01PIvBF1UHDXIzqV"
    "M9xwchkXrJ9K1s6nk7U3KWXtpFbmLQ2qvxLmVcqiUrXgFw6tlMEyq67czmLbAWOaGcEgKl"
    "ebGAZ/a7XOz9+0Xp1fvr1ov3lz8fbVKphB8tamqAbveh9BIYvgn9TQ+ANQtrDstOAR/7rv"
    "36ZjH5WKb9QNzUH/Q6bBSuuD0Bo/dg3TMShrQnsvscwDSpsnRXz8x74HUEF8UvgxZwSkBZ"
    "b/mNgBo6d4ycVU7wHK6oWy46jAxo3vndyUYEwb+aGI3AH5odWVoyWIqs/kN0L60ZESzr4G"
    "UnBQh6TkkK4t5ynpr/2QniZmjrql6VZcVtpvVYfnrJAlT9Vm89Gb8lQU0OO05fnsBxy+I4"
    "w4GTmUU8ooOVhnEFFtkNk+qbIQz5HUeFOi4RQOes8tCNfO/ecylmzui7K5Mp7yQdwjahRP"
    "eW8oy2yo0glFOqHI/pVOKJKkkKqrVF2l6pqiut4RzXok9tM1RCtIKK2Ru8oz6qrtF1ZF0p"
    "t8eqoIERTWI70qRN4cJcj6I9RFrvphxLDJh4UCRkx+NqBkxqH9VLm9FVKwD5AmSEertMKY"
    "KKRD+eVrYQNTthIlAkwUJQQiQjWEef+MgNRiCq0WVdrOSi1GajFSi5FajNRi8mox9z6J3X"
    "0kafkdoreVZ/SYFSNOoHj+AzdPs8CubjhIiKITIjQPOL0auw4ajcS5RtMmEz4kZ0QXAUkf"
    "yMIJMoh2vrzvDdS77qB7O+j1b9X70Sip4JTXFORV7SwWhOpnoCA10a0FoVlh9IN+dOW1xZ"
    "DlOqbxSMTRXJAIIxwfVRzaPYlUEHjMCzfhbM8fOOtDPV9S/O29BL8hyiv8IUUaPK/8cmbx"
    "whBq9SSIxqogPKTMXRDb+8+yxYDwvFIwtejT3HLZaZNX5NuFipqE/Gj069l7cfGsBxdn/G"
    "tB7FNoXQDE33hIKVme+VlldT7CPYUGXpFaDmIza0n356yiCE1tF30RPhGhZgLsym5nr3VL"
    "nfdlD2oLmlsf3s76iJUxuVnfZjRXaXNebfO449GzC4QwDX/F8sIZlpF4xiKALGAsw7e5yD"
    "oflapD5JXoYt/Ok1WonZ1UqJ3IKSSmNNdS0pz6snGOStUP54tc3h0XG7w7LtLCCYm9fVFP"
    "mphY/cAuJVfWSpHaAuodHLK/P6BNSxPhP1TNcFI8srPBTgjWD/BSnMTWuAEhYW+J+VpWwp"
    "4v1J6M+7/3TR7o90k0s73Zg/LV8GOHZo/ajz1xuPASbPjAchYfhCbUSFDhoXvKMzy4w4uq"
    "E1E2NwnuuXKgQX/wGUViCnmJh3mPTAx7DvnAiGYTJ4gqBJQz5AED+lp3oRcRobZlzrl8Gg"
    "FeRjNAft+L4l4SY0I1+2khWOdO9/7s4/WNEnDnNx86avf2+u63z4I6/7H722gkuOa1NyNz"
    "yNp/ZUhNyMzmoPNXZ/yJLGDK+X1gwAm0cMWfDSwcBAHuX/NMlCAxGkYgbQsRRbi+APmtWf"
    "MFf8wz/mZnbIkXSKQl4xV4c1tBzEJkZfiElpb9wBBknJB+M9VZtzeYIImRqK4GYZEtSZps"
    "/bYkpWy9CYVX34aojUpK25kq87TRZTrZ05tCLyVltwq/VLHefZkATP73WN1lsdtUh1z08i"
    "VB9yHc3r0tvQa5CFZ5EZRnktlzrsYGhDJAdc16PWWy+09fgYPpLbS3SlJsO/E6zxmY9ikZ"
    "WPxHqealVQB+z8alO1BkAsUEORZgu5EWg2eUWZZqTr+QOTbMImrISqB2wUpaF3nM4XipDS"
    "pHwiAOXLn4XiKIcFQE6RTRGtoglpKieGLYzClsLRGVOmD00bKWjEOcKOMtgI4ISZzz4Cyz"
    "Wh04wisHbuV2URzziKiMrFsM90diG7yVorGMY5IvjXrRrfKLoH2c4dRCG2+GqaGpvjub54"
    "zT1CybNOcW16pYk5KlGn3UlA363pb+/QcRmE+w6p+4FZwOMUk5HWoX1lumMpRMsez1Akxx"
    "AXIzxpCEYhLHluDcuQy7UM8qHvKRDYQsXjP6rZJJH3MCxT/N2gybsG8gu2E1wddBRXVFyx"
    "K7u8D9fhe0+pBKsqOt8onVFy2+03V2G1kCq3uoJgdS1bRe2AxUONXptiCF0gbVcSxlxuXf"
    "Ba9kboA6QpeMEbktZvHQlHVEK1Ddd8EJzjTvvXrqCtOSjOFV6Z42D0Fu5SI7iGNZ6Qs5nY"
    "SzOKxcQbKRDcwYnsM36oJSE2BTx+MMU91MO5ooiFgwImEuf1rVWRPkCtttBKtZqvlGaKl7"
    "JsjXemnNG6Z4Sol+ZlDk+TQ30WAG4YVFgC0v980PDI1GfzrGOsaVbTmiZ1HCXYfvj7JiF5"
    "fSzvaRqiJnZZF8bXsMJZXdiLLvqFXl1h4ygd6lVmn/86L2P/508/b2Kp9qRc6AUoVrZxe0"
    "/yhZfKY8GpbL1ADAgrhnydfPDWT/2IsPyFZsf1RS+nxUh9xPnum8YLyc7U60v9AH/i7BVq"
    "isb4gMnvMiq1gpQMsoZzLK2cvhXEqUMxkPSsaD+i5gr1Ye+Ypy4bXYiB5XJlXZzVt2sxdH"
    "ykjTNjb3ckRQ6pSV7uN5yplQ9vfRL35AHXKxDJ4i5WI12Rjp1iItnKuyVh2psas0cf4eez"
    "3LxLmawTCquwuROdSqE+biQFFjk2ZPCQOLVMuojWYWGaZZ+SwugubQShidnLeQjaluzdH4"
    "ySFMQWPMyGXbtc3TKz/tM0SHRSci4Rgs0CLz2SM2PbwT5hb7bmRIXeoYJhqN1prqaKSISK"
    "4Qd3bh2nxCEYhIqyDyVfMzjkGUV2tqUAUFKc7CCdX4RewMKWYPRBelDUeGca3KYqhssCPQ"
    "wjMlr4oUEaphbIsSLAe8SZUOcpe688RXJ2o4sBavMtyNu+7H3v2ge3eFbDI1mEPsIf2p/7"
    "F3e+UtHkN614UA1ZDS8ZrvtKBcKDw2iS+AuZjeyzxEb3w7F+J5L2XY//LD/hc90a9v6ptS"
    "TiaOi66uSEi9iuuFKXTAdkdP+z11qtjkqlP/SpIvew09TronF8knk3LWg+2pJp7HTfaEPI"
    "oy2Z6o11E+uke8tOf+lJPwGawzwv/A1qyMYEK8iiCOUISXQSdrXkZBFLLdrNkTQ4cUOAnK"
    "p5xmhhTTaCIiXjnjv4iOwOXV1hHDTwySx88g65DIci8q8Z9FsjlVWeyUDWxOlj/fpmClgY"
    "T0/3iWxZH7M7k/k7Hpd9+eFdlQyNj05ezjdtibdYhtaLPkfsy/vmkPti5Rmdj0mYm0Uudv"
    "SvIsvy8qO3781Fmt1+037bfnl+1VxqzVlU2JsgJTpOxNB99uBh7teXcdIZEqn2dUyW0Ipl"
    "QBhP3iNUS3FP6ct+ikegplJyYOiRw+N/HLfOfrkYX42/8B9uJUug=="
)
