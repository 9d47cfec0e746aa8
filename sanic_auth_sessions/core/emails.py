"""One way to turn an email address into the form that is stored, compared and counted.

Registration, login, lookups, the per-email rate limit, the lockout and the admin search all
use :func:`normalize_email`, so ``Ada@Example.com``, `` ada@example.com `` and the full-width
address written in full-width letters are one account, one counter and one lock.
"""

from __future__ import annotations

import unicodedata


def normalize_email(email: str) -> str:
    """Unicode NFKC, then surrounding whitespace removed, then lower-cased.

    Lower-casing is Unicode's default (``str.lower``), not case folding: ``ß`` stays ``ß``.
    """
    return unicodedata.normalize("NFKC", email).strip().lower()
