"""Stored security events (``auth_security_events``): every audit event but ``token.refreshed``,
kept ``AUTH_AUDIT_RETENTION_S``. Append-only, with no foreign key (events outlive accounts);
indexed by account, by actor and by time, each with the id for keyset paging.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        CREATE TABLE IF NOT EXISTS "auth_security_events" (
    "id" CHAR(36) NOT NULL PRIMARY KEY,
    "type" VARCHAR(64) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "user_id" CHAR(36),
    "actor_id" CHAR(36),
    "ip_address" VARCHAR(45),
    "user_agent" VARCHAR(500),
    "device_name" VARCHAR(255),
    "device_id" VARCHAR(255),
    "location_city" VARCHAR(100),
    "location_country" VARCHAR(100),
    "session_id" CHAR(36),
    "data" JSON NOT NULL
) /* A stored audit event (every one but ``token.refreshed``), kept ``AUTH_AUDIT_RETENTION_S``. */;
CREATE INDEX IF NOT EXISTS "idx_auth_securi_user_id_9697b1" ON "auth_security_events" ("user_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_auth_securi_actor_i_f3003f" ON "auth_security_events" ("actor_id", "created_at", "id");
CREATE INDEX IF NOT EXISTS "idx_auth_securi_created_156a12" ON "auth_security_events" ("created_at", "id");"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        DROP TABLE IF EXISTS "auth_security_events";"""


MODELS_STATE = (
    "eJztXW1v2zYQ/iuEviwBbKNxk6zIhgFO467eGntInK3YMsi0xNhcJFITpThel/8+kpKsd0"
    "dy/arpS2OTdyL1HF/uOR7dLwp0nWnrGpljZLMptpQL8EUh0ET8Q6quwYssK6gRXx04Nhai"
    "qrkQZVJ2zBwbag6vf4AGQ7xIR0yzseVgSngpcQ1DFFKNC2IyCYtcgv92kerQCXKmyOYVf/"
    "yhuIx/4pXUnkCC/4HyKX/+yUsw0dEzYkLsi/KAkaHLzzFJFetC2aa8w0IHPVs2YozXSFlR"
    "5L+33wdnbslXU6QwfxP55aUBXmviL4oJ0lXofFU7QtB6VGVTMat4jchyNdC9u+tdfZCSAs"
    "+xqlHDNUkobc2dKe9fIO66WG8JHVE3QQTZ0EF6xE6ia75pgyLPJLzAsV20wFwPC3T0AF1D"
    "WFv5/sElmkAEyJbEP6c/+F2LiKlqfzBUb7tDVVVKDA6NQ8lhwsQRiH558Z4bAiJLFdHA+4"
    "+dm6O358cSAsqciS0rJVzKi1SEDlRDc4Yoy3GSwvn9FNpd4poS6x7vBiQaSmEe6CZQ551e"
    "Be+gIAQ8nE0LKL2pVxJiZfBbv3tzAeiM9+iedK6ue/0LAHUTk3ty3b2+FJXek+/Jj3fd2+"
    "EFmLiIOUohwygmfFYNRCZ8rbgAJ+dLDPVr50ba6sSzFeXLhreu9P2atqx6kbMvMFE4z1J2"
    "uuL4OthE2XMippgwku5rtoIPmzJZML43MCMUG0F9QIy5PzmXAD/sXXOzdq5/Ec2ZjP1tSP"
    "g6w66oacvSeaL0KGmkxUPAb73hRyC+gt8H/W5y2i3khr+LdVRsGlQldKZCPbKOBKUBajGb"
    "Zyy3RVfCDNV1Los7tvnXrIIhvGKLLQlrRKWGk8Mp9u2Hx8w9JXBg4tB+oDbCE/Izmqd2lQ"
    "Sg0h+78x9ymICGpeGEt+Fs4eZEhxN/cx0ZyPF23s7t+85VV8ldDb4a2EHiYRUFOGMZzAZa"
    "DOQx1B5n0NbV2IgWNbRNEyUL2XSV2TaTJZDAiQRJvI2/GSRskKIiSQstJSPR99wAHUnQjt"
    "pb36m3Lv9meuvZOAfy2/PQN+nuxf3sN2+KONpv3uR72qIu7hcww52UwTeQXw++r4/hw0Y3"
    "2rMUyEP07GSDnFBbCWsfyX0ZysuYSvfzMEZSAkiPrjufj2NE5dOg/2MgHjHB+0+DywTymK"
    "l8R8BPGYvHJeUsHpKcdTqqlwB+zBU3tYoEA3+70F8OBp9i0F/2ktjeiWDB0Ym0AxfCni/R"
    "6w8TgGucmjorkfa45nZY+1bXmeqSdtfSVzR6XLMO1eyL1QOMImaXvU+R33wSEQ6PxLFBYh"
    "n2lT/8fIMMmLPXZRxUHNg4yGNvL5vjWr9AxmbU1m8QQ86QPqIMxpUh03iFd1m+imoLHc6Z"
    "uFIx/qV0AOMYGajpMgSkOpDq3wHKZwjADgO3HzvN9tk5wAwwh/N7vQV+hQbWPYnZFBtIyo"
    "kwwjcsGadefwv3ZDRiSHNt7MxV5kDTGo2EKqeJXEFIghlkwIQ6AjPMEVUaNZ3cezopx4Q6"
    "hWxahvTEtSpHfc5PCzCf89Nc4iOqEqwyNnFK8cuU5o6Z/NpQftsugPLbdi7KoiqOMnq2MB"
    "/6K3hfcc3qudyH62xl+NhsNQebrdO7PqBowqHZ97CIc82h1sSc6/PY+jx2v89jd3FMeOu7"
    "f90nJDueYK3x6sYrhHXhSyIhXpyqSnIIoKtzjidVwRH/Y88l7xu7DhiNJCNo2eiBD8kp0k"
    "ej4wZ4RJao6twNP6qdu6veUL3pDrv9YW/QV29Ho1YWZ91QU/fknnQsCxG9KchtC/QpePBG"
    "P9edX3htMUBdx8BPSJJaqGnUFYWQ6ID5iY2iZg6gzavHXLglWLE/cEI67GvKz95L8Aop3+"
    "Cd5GhTX342pVyYzyRwJGTFgxoA3hPmWsj2vlFbDgguigjvCSVzk7rsuMUfpKMnrCHvSVJ/"
    "NPrcvJKFzZ4onPLdAtnHonUJEH/je0LQrOlpAp2PcI+/ilck1AFsSmekIHOPJYdGJk98F+"
    "Zla8xBDbDbdDtrfXYd4thtiENAlcJ5SXDDl6/gifn6Axu1s77KaN4n57wo596Nd344PLtE"
    "7ml0FysKZ1SnxjOR22CJsSz25jLrfFyrCjkl8cX+9KzAYn96lrvYi6qMnGnOUkjGYp+Pc1"
    "yrejifFUqUOluSKHWWlSglffuy2X4JteqB3T4rMqq5VC7Ysi4T7KwF+VWoM1fkGuhsoA2q"
    "ednYGnbmZcBOKVYP8I3kW4a4iYCEvSLmoW4Ne7EkYi9MUNLFi2vVTl5ikeb8Po3mT7eDfs"
    "767MsnmSXWHPAvMLB3t3MjV1TDoMnYxYaDCWuJZncRNxH4xEhmKpc4mTacsIR4wGXW4cIu"
    "ouHyBCIVBA/OJZbGvoUXWl+OqXioD5kQG2X2uIVC5XKY2mdFYn1caon/lor2iYwvpC8SH8"
    "sgnaFawQDrSftdEW+i/S7fmxB1cdQfsM2c0lQwrrXFH2jY1JKxDXcZrgB0TKnGuQjO9WWk"
    "LV9G4sAtzpTLYx5T3SLsi5KDxf0w834jriCDBGuqnz3inX23NGqjlkl1ZLAWQTM13tUMl3"
    "Fti9H6U4YP6/yyvqVX39KrrV7f0tvhLb3oPMq9ALcqZNmX8KoIXbCZfg1aIu516z2nSjBt"
    "NnwYAJYZRYyg+UoibWi91zNoBwQBhicE6U1MgHdu2ALDqbiXKZNYvZuZ3zAwGv3l4DCP1K"
    "aOHABAo6YFbdSERG+yGbREzmo6fXaD7ayeDRqjbJIqBxdx1piumd9IY92ZoZt9euQeWp1x"
    "erBhaH+6eRuiyqdaGeKXqVy58PT6M1H5THnC1GVqAGBJ3PP0q3fkvX7s5QayEqGKa9YXM/"
    "eHP6Vp8w5z0lYLY92RR/4ugSu0nXh5naB2yAlqdSZxnUlcsUziOueyzrn8X8CeIOZlvNCk"
    "bgUD+1VyRA/rd35qM69o5jpLpP7J2n2ZVwd6Llqfhv8frZ53Gr4XN7r3zcarHwGkkgvq31"
    "uKAHqYv7fUQTbWpkrqdNgvbyw5GA4l9uaGSY/k/IcKmbMYk9SVKN9u+3uoNBFdaLZPTr89"
    "fff2/PQdF5HdXJR8u2R+Bx5Q/kneE7KDhICiFD6iUsELDhuJuoopVQJhX7yC6G4kMMJbdD"
    "IDrfl3JyMq278+uZu9vhoXJV/+A+t66uc="
)
