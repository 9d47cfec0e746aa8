"""The ``guest`` organization role: the lowest rank, reading like a member.

Roles are stored as text, so no row changes; on PostgreSQL the column's comment lists the new
value. SQLite keeps no column comments: its migration only records the models' new state.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return "SELECT 1;"  # aerich needs a statement; there is nothing to change


async def downgrade(db: BaseDBAsyncClient) -> str:
    return "SELECT 1;"


MODELS_STATE = (
    "eJztXG1T2zgQ/isafymdgQyEhDLczc0Emra5lqQDoe20dIywRaJiy64lE3Ic//0k2Y7fQx"
    "LikPj8BRJp15Kf1cs+u1IeFOiyYe0UmdfIoUNsK0fgQSHQRPxDqm6bF9l2UCO+MnhtTERV"
    "cyJKpew1ZQ7UGK+/gQZFvEhHVHOwzbBFeClxDUMUWhoXxGQQFrkE/3aRyqwBYkPk8IofPx"
    "SX8k+80nIGkOB/oHzKz5+8BBMd3SMqxB6UG4wMXX6OSapYF8qOxTssdNC97SBKeY2UFUX+"
    "e/t9YGNbvpoihfmbyC+P2+CpJn5ZmCBdhexZ7QhB+1aVTcWs4jUiy9VA9+Ki8/adlBR4Xq"
    "uaZbgmCaXtMRvy/gXirov1mtARdQNEkAMZ0iN2El3zTRsUeSbhBcxx0QRzPSzQ0Q10DWFt"
    "5c8bl2gCESBbEn8af/ldi4iparfXV8/bfVVV5hgcGoeSw4QJE4g+PHrPDQGRpYpo4ORD62"
    "xr/+C1hMCibODISgmX8igVIYNqaM4QZTlOUjifDKHTJq4pse7wbkCioRTmgW4Cdd7pRfAO"
    "CkLAw9k0gdKbenNCrPS+dttnR8Aa8R5dktbb0073CEDdxOSSnLZPj0Wl9+RL8v6ifd4/Ag"
    "MXUabMZBjFhPeqgciArxVHYO9giqG+tM6krfY8W1l82fDWla5fU5dVj3L2BSYK51nKTm85"
    "vgybKHtOxBQTRtJ9zVrwoSiTBeO7gBmhOAjqPWKM/ck5Bfh+55SbtXX6WTRnUvrbkPC1+m"
    "1RU5el40TpVtJIk4eAr53+ByC+gu+9bjs57SZy/e9iHRWbhqUSa6RCPbKOBKUBajGbZyy3"
    "s66EGarLXBZf2ObPWQVDeMUWOyesEZUKTg6n2LdvbjP3lMCBiUP7znIQHpCPaJzaVRKASn"
    "/swn/IZgIaloYT3oGjiZsTHU78zXVkIObtvK3zk9bbtpK7Gjwb2F7iYSUFOGMZzAZaDORr"
    "qN2OoKOrsREtaqy6lSiZyKarzLqZLIEEDiRI4m38zSBhgxQVSVpoKhmJvmcBdCRBOypv/U"
    "W9dfk/01vPxjmQX52HXqS7F/ezd3dncbR3d/M9bVEX9wuo4Q7mwTeQXw6+T4/hzUY32rMU"
    "yH10z7JBTqgthLWP5LoM5WlMpf2tHyMpAaRbp61vr2NE5VOv+z4Qj5jg5FPvOIE8pirfEf"
    "BdxuJxbHEWD0nOOh3VSwB/zRWLWkWCgb9a6I97vU8x6I87SWwvRLBga0/agQthz5fodPsJ"
    "wDVOTdlCpD2uuRrWvtJ1pryk3bX1BY0e16xCNeti9QCjiNll71PkN59EhMMjkTZILMO+8r"
    "uPZ8iAOXtdRqJiw8ZBHnt7LI5rfYaUjixHP0MUsb51izIYV4bM9hO8y/ZVVEfocM7ElWbj"
    "X0oLUI6RgXZcioBUB1L9D2DxGQIwo+D8Q2un3jwAmALKOL/Xa+ALNLDuSYyG2EBSToQRXt"
    "FknHr5LVySqyuKNNfBbKxSBk376kqocprIFYQkGEEKTKgjMMIcUWW7opNrTyflmFCHkA7n"
    "IT1xrdJRn4PGDMznoJFLfERVglXGJs5c/DKl+cJMfmko79dnQHm/nouyqIqjjO5tzIf+At"
    "5XXLN8LvfmOlsZPjZdzMGmy/SuNyiasGn23SziXHGoJTHnKh9b5WPXOx/7EmlCiXmKrAaW"
    "mEpPxftU6cCS8zdkQmzMwycmCqVjbfXmLLSNS+UyClkXpxSC43KPIgj1zIN0hmoZk7D1w1"
    "nShPXD/DShqIujfoMdytR5U91xrRUeSS1qyVhBQtaACwAdU6pwngXnKv264vQrB466NnKy"
    "Pd+nMI+prhD2ScnG4r6Zkc6IK0ghwZoqPWjq32apaZwo1UyLcwJaI2ikxrua4TKucZB0s8"
    "Ir1bmE6lxCZfXqXMILnkuIzqPclP+ikGUfOygjdMFm+hy0RNzr3HtOmWAqNnwYAJYZRYyg"
    "OTWYGLXe08dbegQBigcE6TuYAB3dYQ3VQH8oTqLc8Kkz9M6ivKLg6uoXw+FBEsdicgAAzT"
    "Jt6KAdSPQdOoI2uEVjeaIkdsilwHaejnzGLkdHgscxyiapcpB6XOJl7PxGtmUwdYlNFfv0"
    "SOa9ukO+sWFof7p5G6LKp9o8xC9TuXTh6eUfKuIz5Q5bLlUDAOfEPU+/DNcrisZebiALEa"
    "q4ZnUUZX34U5o2ex7F3PHxhNoKw1gX5Ja/S+AKrSZeXm82Z8q7Nafk3Zrpi2ISwqzd+0nc"
    "MzfxEqxihQCNbTEhhM81D9JxrfJB3ZgF6UY+0I0UzpIgcIpGMjaMfJzjWuXDuTlTrq05Jd"
    "fWzMhpWpp351/DbDxXXjOpWD7Ai0kiT3CzXMKcBTEPdSvYZ8/dL3gaOqlbwsB+mRzRzbrZ"
    "UJl5QTNXp0SqS/rrMq82NC9aZcP/j1bPy4ZXN0yqGybVDZOpKeIWcrA2VFLZYb98e0piOJ"
    "RYmxsmHZLzE1KZsxh7cZXocPPttr5JpYHowk59r/Gmcbh/0DjkIrKbk5I3U+Z34AHlZ/Lu"
    "kBMcCJiVwkdUSnjBoZCoq5hScyDsi5cQ3UICI7xFlhlo/fu8181x50OVpFeHNQb+BQamqb"
    "ViA9CeAq4AI+a6pX5mLvmLcgmnQDzgOMsrWOU29vgfGEN+lg=="
)
