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
    "eJztXW1z2zYS/isYfjl7RtLEiu1mfJ2bkWMl0TWWOrac5lp1KJiEJdQUwBKkZTXn/14AJM"
    "V3mVL0yuKLLQG7APgssNhdLKhvGvTccaM9gdjq00dEtAvwTSNwgviHTF2NF9l2WCO+uvDe"
    "mpPqSJDqrqBlkvieuQ40XE7wAC2GeJGJmOFg28VUdKW1AMNkZKG6xxCQ7PUn5OAHbEBBAq"
    "gTlBpjSEYIyLb/DSixZgC7DNx+atWbZ+cAM8Bc6iCzIfo1qcE75g1vposBGZDhUDINh6Lc"
    "HSMATdNBjHEWMIUMiEpk8sbAkaw1DOoR918MPPD+IIiPoCb5CZryPtGA+AT+YI4b4Au0sO"
    "mPZjrmbcox8UdxeFvDIUOG52B3pjMXTuxoNLylaCQmAlPMJSmg8Qj+00NcRiPE6RwO0G+/"
    "82JMTPSMmPj6TXvAyDLlZ010pGNTcNqeY1OGNEGOnm3xsHzwLGwhmDPEsywxL2a2nBaaJO"
    "aTQH55qYFE6xLCeNv8o+Eg6CJTh+539SQI7UdddpaY0/7DyHI95L2761x9kJRi8tzrBrW8"
    "CYmo7Zk7pmRO7nnYbAgeUTdCBDlixLFJLoYWLIywyMedF7iOh+aAm1GBiR6gZ4mlov344B"
    "FDzk3Zk/hz+p9gaDEyXe/2+vptu6/rWmZlBejEV0JQZHAoOUyYuALRby9+uxEgslQTHbz/"
    "1Lo5ent+LCGgzB05slLCpb1IRuhCPRJohHJMoEmo34+h0ybeRMLd4SOBxEAZ2GPsKez50F"
    "dBPSyIYI8UUghoCFl5kLUv7ZvOh/9d+Mt5NiAcse7H9kWwetOqKF8A2gQ+6xYiI65RL8DJ"
    "+QKBfGndSJmc+DKhXLf62rcb1DRl1YtcZ6EopD7Tx5CN86WRP/GTXOsRwutTf3kRlJ7nSZ"
    "jPT0vAfH5aCLOoSsI812VlEY6U3x7P8BXhbZ6VwZdTFQIs65IIJ/e6ZaDOclYQ87fNEpC/"
    "bRYiLqpSU/rZxlzli604A/YVh8nFE1QwtxOcKbDNgLURflgP9NtUJguQ7neu27f91vXPov"
    "kJY39aEq5Wvy1qmrJ0lio9SuvzeSPgl07/ExBfwa+9bju9E8/p+r8K40pY4VQndKpzazQG"
    "UlgcFiWkzE08cwURx9jWIN9AePuysqok35hBvaSIk5zbWcXbVaD8Ac0ed62CGXggYg8Wy2"
    "urOnTcyvo6cV9vjQ7P/i7lV/wb4UI+POa6NwKqLLQfqIPwiPyEZhnvJgWoDKzcBY0cJqBR"
    "aTQjHTide9zx6cSf3EQWcn0zrXX7vnXV9l30e2g8TqFj6gmgRQ1t0lTJnDZbNWlO0iWQwJ"
    "EERzxFsIjGjWs0uUcOG2NbywS6YnW1VwJdkzlpuThXMbg58Zjf5tOLOiNI8F8ySqT9vihO"
    "E6cMQHeotdZgTU4Xf1BMVKjmwEM1cp5kcC4Xpwl5t+dOaf7SWxJirfdLt31zAeiUj2hAWl"
    "fXne4FgOYEkwG5bl9fikq/5QH5eMc33wsw8hBz9yOEE62zJS24BKMy4A7JgMtRt2U1YQ6r"
    "MuhSS0rZx8o+3nP7uEgbfDewvVRjFQU4Rw3ujyOSkEHGFUlLaKEzEn/ODbgjKbdDWes7td"
    "bl/1xrPR/nkL6CBx4nb96UMbTfvCm2tEVd6pDJ8kZLHS0F9JU7Id0IuvGRZUDuo2c3H+QU"
    "20pYH9AJQ/trP+GkhJAeXbe+Hicclc+97seQPCaC9597lynkMdP5joCfcpTHJeVePCQFej"
    "rOlwL+njNuSouEE3+70F/2ep8T0F920tjeiWDB0YmUAyfCvi3R6fZTgB/WsctW9Ux1nXbP"
    "NlcUepJThWr2Reo5R6xy9Bnnt9iJiKZH6tggpYYD5g8/3SALFux1OQcVBzYPiry3l835Wj"
    "9DxqbUMW8QQ25BlnMOTe0Vv8sOWHRH8Kye9izZS6QdL0oFTsep19+DSHneQLaxcid36k6q"
    "5NCtJIdWKHVxbSirfEWVr6jyFZV8Vb5i1X0ola+ozmN3Duhh5iveBuZf+wnJgae81mR17R"
    "WHdW5LIkFe3lWVziGAnsl9PMkKjvg/Zyb9vnvPBcOh9AgaDnrgU3KMzOHwuAYekS2qWnf9"
    "T3rr7qrT12/a/Xa33+l19dvhMPem7oa6Ejd2W7aNiFkXzm0DdKm4iCtmP+edXfh9MUA918"
    "JPCMSu7DIAiQlYkNgoamYAOrz6nhM3hFccTJzYVWCfU372H4JXSPoaHyRHmwb00zHlxHwl"
    "+ZeERUM1AAeEeTZy/G/UkROCkyLCR0LJbEI9dtzgDZnoCRvIb0nyD4df61eysN4RhWO+Wy"
    "DnWPQuAeJPPCAETes+JzD5DPf9V/GIhLqAjemUfOc94eQuzMvWmIMaYrfpftbatgpx7DbE"
    "IaDK4LwguBHQV/DEfP2BDWWsrzKb98k4L+tz78Y6Pxw/e4nc0/guVhbOOI/CM5XbYOvB21"
    "eW0fNJrirklCSV/elZCWV/elao7EVVTs4091JIjrIvxjnJVT2cz0olSp0tSJQ6y0uUkrb9"
    "stl+Kbbqgd08KzOrOdWCF0tk5vXckVoB6lyNrIDOB9qi/huvdAO7s2XAzjBWD/CN5FtGuI"
    "mAhLMi5hGvgr1cErEfJljSxEtyKSMvpaS5f59F87+3vW6Bfg7o054lNlzwf2Bh/27nRq6o"
    "RkGTew9bLiasIbrdRdxE4JNwMjO5xOm04ZQkRAOXeYcLu4iGyxOITBA8PJdYGPsWVqi6HF"
    "PxUN+u38G2RzlMG3kDm8j4QuY88XEZpHNYKxhgPWm+K2NNNN8VWxOiLon6A3aYu7QrmOTa"
    "4gsaNqUytmEuwxWATjApnMvgrC4jbfkyEgdufqa8POYJ1i3CPi85ZNz9N32jnM3yNdjjnL"
    "tGfVlTeSdoH2aWdczwZpBgQw9ydfxMg4ZBHdSYUBNZrEHQVE8ONcdAX5vqX3+C9mGdFqs7"
    "kepOpJL6pu9Epn8zZNVLkcmfKTmwiVB4KTK+kNTt0ZJAFV7MXBWy/MuhVYQuNDu+By0Rj7"
    "3126kSTJsNa4eA5Ua3Y2i+kuAdSe/1zO4eQYDhEUFmHRPgn2c3QH8s7gvL5Gr/xrD8naE/"
    "XBzlNzvU9X86yaATGzqoDolZZ1Noi1zqbFr3BvtZPUs5EUqQIZzwgtga04iLO6mtO2N5s6"
    "3H7keqTOiDPR4Jlpu/Iep8qS3jIucyV+7YZP0Z0nylPGHqMT0EcEnci/irl4qxfuzlBrKS"
    "65nkVBeG98fTzAYYdpgruVrA74488mcJTaHtnOOoxMlDTpxUGe4qw71iGe4qF1jlAv8jYE"
    "855stYoWneCh6BVMkQPaz3Tykxryhmlb2kXqW8L+vqQE+QVd7AP1HqRXkDe/GmgX2T8epH"
    "AJk0DPUesBigh/kesBZysDHWMqfDQXltwcFwRLE3N586pOCHPnJXMSaZq3qB3Pb3UGkkhl"
    "Bvnpz+cPru7fnpO04ihzkv+WHB+g4toOKTvCfkhAkBZV34GEsFL95sJOoqltQSCAfkFUR3"
    "I4ER3qObG2gtvtMbY9n+td7d7PXVuMD78jfM+t0h"
)
