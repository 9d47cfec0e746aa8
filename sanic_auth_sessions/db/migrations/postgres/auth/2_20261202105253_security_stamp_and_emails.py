"""A security stamp per user, and emails normalized with Unicode NFKC.

``auth_users.security_stamp`` changes whenever an account's email or password changes or it
is deactivated; password-reset tokens carry the stamp they were made with and die when it
changes. Existing users get a random stamp; existing reset tokens get none, so tokens issued
before this migration are refused.

Emails become NFKC, trimmed and lower-cased, as the package now stores them. If two accounts
would then share an address, the migration stops and names them: merge or rename one first.
"""

from tortoise import BaseDBAsyncClient

from sanic_auth_sessions.db.migration_steps import normalize_stored_emails

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    await normalize_stored_emails(db)
    return """
        ALTER TABLE "auth_password_reset_tokens" ADD "security_stamp" VARCHAR(32) NOT NULL DEFAULT '';
        ALTER TABLE "auth_users" ADD "security_stamp" VARCHAR(32) NOT NULL DEFAULT '';
        UPDATE "auth_users" SET "security_stamp" = md5(random()::text || clock_timestamp()::text || "id"::text);"""


async def downgrade(db: BaseDBAsyncClient) -> str:
    return """
        ALTER TABLE "auth_users" DROP COLUMN "security_stamp";
        ALTER TABLE "auth_password_reset_tokens" DROP COLUMN "security_stamp";"""


MODELS_STATE = (
    "eJztXG1T2zgQ/isefymdgQyEhDLczc0ESK+5lqQDoe30ZYywRaLDll1Lbshx/PeTZDu2/J"
    "I3khD7/AUSadeWn5VW++zKeVSBR4e1C2jdQpcMkaOeKI8qBhZkH1J9u6zJccIe/pWCW3Mi"
    "qlkTUSJkbwl1gU5Z/x0wCWRNBiS6ixyKbMxasWeavNHWmSDCg6jJw+inBzVqDyAdQpd1fP"
    "umeoR9Yp22OwAY/QPEVX78YC0IG/ABEi72qN4haBrisySpIYMruzYbMNeBD44LCWE9QpY3"
    "Bc8djIGOHfFoqhBmTyK+PO0qs27xt40wNDRAn3UfLujca+JWklX8m4h2LdS9vu6cvxWSHM"
    "9bTbdNz8KRtDOmQza+UNzzkFHjOrxvADF0AYVGzE58aIFpwybfJKyBuh6cYG5EDQa8A57J"
    "ra3+fudhnSOiiDvxP40/gqHFxDSt2+trV+2+pqkLTA6dQclgQphyRB+f/OtGgIhWld/g7F"
    "3rcufw6LWAwCZ04IpOAZf6JBQBBVpkzghlMU9SOJ8NgdvGniWw7rBhAKzDFOahbgJ1Nuhl"
    "8A4bIsCj1TSB0l96C0Ks9j5325cnij1iI/qOW+cXne6JAgwL4e/4on1xyjtjV55pCtUCD5"
    "oJ8YB5hxPl4GiKaT61LoV1Dnzr2MxR+J6kG/TURdeTWG+hUaKVlbLMOUOUIgtmrwJJMWEW"
    "I9CshR/WZaRwRq9hDaguBEYPm+NgOU4Bvt+5aF/1Wxcf+e0sQn6aAr5Wv8176qJ1nGjdSR"
    "ppchHlc6f/TuFfla+9bju50CZy/a/cc/JtwtawPdKAEfMcYWuImmTzDAc7r+/LUF2lI3xh"
    "mz/H70Xw8k11QVhjKhWcDE6+U9/dZ+4iYcgiQ/vWdiEa4PdwnNpHEoCKCOw6uEgxAY1aow"
    "XvgtEksIlPJ/bkBjQh9ffa1tVZ67yt5nqDZwPbS1yspABnuMFsoPlEvgX6/Qi4hibNaN5j"
    "1+1Ey0Q23WXVrWQLwGAgQOJPE2wGCRukyEfSQlPpR/w510BAEkSjis9fND4X/zPj82ycQ/"
    "nNxeTrDPfkOHt/f55Ae38/P9LmfXJcQExvsAi+ofxq8J09h4uNbnxkKZD78IFmg5xQWwrr"
    "AMltmcrTmEr7S18iKSGkOxetL68lovKh1/0zFI+Z4OxD7zSBPCIa2xHQrwzncWoz3g5wjp"
    "+O6yWAv2WK6/Ii4cTfLPSnvd4HCfrTThLba54e2DkQdmBCyI8lOt1+AnCdUVO6FGmXNTfD"
    "2jfqZ8pL2j3HWNLosmaVqtkWq4cYxcwuRp8iv/kkIpoeiUJBwg0Hym/fX0IT5Ox1GaWJgs"
    "2DPPb2tD6u9REQMrJd4xISSPv2PcxgXBkyuzN4lxOoaC7XYZyJKc3Hv9SWQhhGJtzzCFSE"
    "uiLUf1NstkIURIly9a61V28eKYgohDJ+b9SUT8BEhi8xGiITCjmeRnhFknnq1d/hO765IV"
    "D3XETHGqHAcm5uuCqjiUyBSyojQBQLGFAZIYaoulvRya2nk2JOaENAhouQHlmrdNTnqDEH"
    "8zlq5BIf3pVgldLCWYhfpjRfmMmvDOXD+hwoH9ZzUeZdMsrwwUFs6i8Rfcma5Qu5ixtsZc"
    "TYZLkAm6wyui5QNqFo9i0Wca441IqYc1WPreqx212PfYkyocA8RVZDS0ylp/x5qnJgyfkb"
    "tAAyF+ETE4XSsbZ6cx7axqRyGYXokykF57gsoghTPYsgnaFaxiJs/XieMmH9OL9MyPtk1O"
    "+QS6i2aKlb1trgIdR1uYwNFGRNsATQklKF8zw4V+XXDZdfGXDEc6CbHfnOwlxS3SDsk5bC"
    "4l7MTGcsFCQAI10TETQJ3l+pWTajA6SG4UiTR5kRLW5xfrRYmZXqSEJ1JKGyenUk4QWPJM"
    "TXUW61f1nIsk8clBG6cB99Dlo85XXlX6dMMK03cxgClplAjKE5NY8Yt97sky09DBWCBhga"
    "ewgrBvyFdFhT+kN+COWOLZ2hfwzlFVFubv6mKDpD4tpUTABFty0HuHAPYGOPjICj3MOxOE"
    "winW9Z431mJz2lN6FjeWOJrQmWHFYdV/jmdf5NdkUedYW3Wu/VY0X36oXxwmagg+Xmb4ga"
    "W2qLcL5M5dJlpld/nsj3dwsn7hJqG+TX1/ieRaqho95MIq/ebM5VEGhOKQg0c5DP8i0zcc"
    "90MYV8e2UDQCOH0x2+IyyCtKxVPqgb8yDdyAe6kcJZhC8sgMQZ+YF8nGWt8uHcnKsI0JxS"
    "BGhmFFts3X8ZWUd0vFDBJalYPsDXU92a4GZ7mLpLYh7pVrDPX1Rc8phmUreEacfiphnT2e"
    "ViHbmuzLykmavydfX28Lasq4JWbapa3f/R6nm1uuroe3X0vTr6PrWA1YIu0odqqnYVtO9O"
    "KVtFEltz9L2Dc37bJnMVIz+vEp9ugd22N+U94EPYqx803jSOD48ax0xEDHPS8mbK+g4joP"
    "w6wy/ohuXKeSl8TKWEJ6/XknXlS2oBhAPxEqK7lsQIuyPNTLT+ddXr5oTzkUoyqkM6Vf5V"
    "TERSvqIAaE8Bl4MhhW6p379K/tRVIijgFzjNigo2uY09/QfAKGFS"
)
