"""The refresh grace window (``AUTH_REFRESH_REUSE_GRACE_S``): each session remembers the
refresh ``jti`` its latest rotation replaced and when, so that token can still refresh (to the
current ``jti``) for a few seconds instead of counting as reuse. Both columns start empty: a
session rotated before this migration has no grace for its previous token.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_sessions" ADD "previous_refresh_jti" VARCHAR(64);
        ALTER TABLE "auth_sessions" ADD "rotated_at" TIMESTAMPTZ;"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_sessions" DROP COLUMN "previous_refresh_jti";
        ALTER TABLE "auth_sessions" DROP COLUMN "rotated_at";"""


MODELS_STATE = (
    "eJztXFtT2zgU/isev5TOQAZCQhl2Z2cCTbfZlqQDoe30MkbYItFiy64lE7Is/30l2Y4tX3"
    "IjDonXL5BI51jyd3Q53zlSHlXg0WHtHFo30CVD5KgnyqOKgQXZh1TdLitynLCGf6XgxpyI"
    "atZElAjZG0JdoFNWfwtMAlmRAYnuIociG7NS7JkmL7R1JojwICryMPrlQY3aA0iH0GUV37"
    "+rHmGfWKXtDgBG/wDxlJ8/WQnCBnyAhIs9qrcImob4LElqyODKrs06zHXgg+NCQliNkOVF"
    "wXsHfaBjR7yaKoTZm4gvT7vKrCb+thGGhgbos9rhgs6dJpqSrOI3Isq1UPfqqvP2nZDkeN"
    "5oum16Fo6knTEdsv6F4p6HjBrX4XUDiKELKDRiduJdC0wbFvkmYQXU9eAEcyMqMOAt8Exu"
    "bfX3Ww/rHBFFtMT/NP4IuhYT07Rur69dtvuapi4wOHQGJYMJYcoRfXzynxsBIkpV3sDZ+9"
    "bFzuHRawGBTejAFZUCLvVJKAIKtMicEcpinKRwPhsCt409S2DdYd0AWIcpzEPdBOqs08vg"
    "HRZEgEezaQKlP/UWhFjtfem2L04Ue8R69AO33p53uicKMCyEf+Dz9vkpr4w9eaYpVAs8aC"
    "bEA7Y6nCgHR1NM87l1Iaxz4FvHZguFv5J0g5q6qHoS8y00SjSzUpZ5yxClyILZs0BSTJjF"
    "CDRr4YeijBSO6ALmgOpCYPSwOQ6m4xTg+53z9mW/df6JN2cR8ssU8LX6bV5TF6XjROlO0k"
    "iThyhfOv33Cv+qfOt128mJNpHrf+MrJ98mbA3bIw0YsZUjLA1Rk2yescDOu/ZlqK5yIXxh"
    "mz9n3Yvg5ZvqgrDGVCo4GZx8p769y9xFQpdFhvad7UI0wB/gOLWPJAAVHthV8JDtBDQqjS"
    "a8C0YTxyY+nNibG9CE1N9rW5dnrbdtNXc1eDawvcTDSgpwxjKYDTQfyDdAvxsB19CkEc1r"
    "7LqdKJnIpqusupUsARgMBEj8bYLNIGGDFPlIWmgq/Yi/ZwEEJEE0Kv/8Rf1z8T/TP8/GOZ"
    "Rfn09epLsn+9n7+/M42vv7+Z42r5P9AmJ6g0XwDeVXg+/sMbzd6MZ7lgK5Dx9oNsgJtaWw"
    "DpDclKE8jam0v/YlkhJCunPe+vpaIiofe90/Q/GYCc4+9k4TyCOisR0B3WcsHqc24+0A56"
    "zTcb0E8DdMsahVJBz464X+tNf7KEF/2klie8XDAzsHwg5MCPm+RKfbTwCuM2pKlyLtsuZ6"
    "WPta15nyknbPMZY0uqxZhWo2xeohRjGzi96nyG8+iYiGRyJRkFiGA+V3Hy6gCXL2uozUxJ"
    "aNgzz29lQc1/oECBnZrnEBCaR9+w5mMK4Mmd0ZvMsJVDSX6zDOxJTm419qSyEMIxPueQQq"
    "Ql0R6r8pNpshCqJEuXzf2qs3jxREFEIZvzdqymdgIsOXGA2RCYUcDyO8Isk49epb+IGvrw"
    "nUPRfRsUYosJzra67KaCJT4JLKCBDFAgZURoghqu5WdHLj6aQYE9oQkOEipEfWKh31OWrM"
    "wXyOGrnEh1clWKU0cRbilynNF2byK0P5sD4Hyof1XJR5lYwyfHAQG/pLeF+yZvlc7u11tj"
    "J8bLKcg01W6V1vUTRh2+y7XcS54lArYs5VPrbKx252PvYl0oQC8xRZDS0xlZ7y96nSgSXn"
    "b9ACyFyET0wUSsfa6s15aBuTymUUok6mFJzjMo8iDPUsgnSGahmTsPXjedKE9eP8NCGvk1"
    "G/RS6h2qKpbllrjYdQi1oy1pCQNcESQEtKFc7z4FylX9ecfmXAEc+BbrbnOwtzSXWNsE9K"
    "thb37Yx0xlxBAjDSNeFBk+D+Sk1nRKlm2YwTkBqGI03uaobLuMFB0u0Kr1TnEqpzCZXVq3"
    "MJL3guIT6PclP+y0KWfeygjNCFm+lz0OJxr0v/OWWCqdjwYQhYZhQxhubUYGLcerOPt/Qw"
    "VAgaYGjsIawY8B7psKb0h/wkyi2bOkP/LMorolxf/01RdJDEtakYAIpuWw5w4R7Axh4ZAU"
    "e5g2NxokQ65FJgO7Mjn9J16FjwWKJsgiqHqccVXr/Ob2RXBFNX2FSxT49l3qtb41sbhg6m"
    "m78hamyqLUL8MpVLF55e/aEiNlPuke0RLQRwQdzz9MtwvaJo7MUGshShkjWroyibw5/StN"
    "n3KBaOjyfU1hjGusJ37F1CV2g98fJ6szlX3q05Je/WTF8UExBm7d4zcc/cxEuwihUCNHL4"
    "hOA+1yJIy1rlg7oxD9KNfKAbKZwFQWAUDWdsGPk4y1rlw7k5V66tOSXX1szIadq6f+dfR3"
    "S8UF4zqVg+wItJIk9wsz1M3SUxj3Qr2OfP3S95GjqpW8LAfpkc0e262VCZeUkzV6dEqkv6"
    "mzKvtjQvWmXD/49Wz8uGVzdMqhsm1Q2TqSniFnSRPlRT2eGgfHdKYjiS2JgbJh2c8xNSmb"
    "MY+XGV+HAL7La5SaUB78Je/aDxpnF8eNQ4ZiKim5OSN1Pmd+gB5Wfy7qEbHgiYl8LHVEp4"
    "waGQqCufUgsgHIiXEN1CAiOsRZoZaP3rstfNcecjlaRXh3Sq/KuYiKTWii1Aewq4HAzJdU"
    "v9zFzyF+USTgF/wGmWV7DObezpP/g7ecI="
)
