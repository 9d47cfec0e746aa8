"""Who is calling: a readable device name and storable text (the client IP is read in
``http/client.py``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MAX_USER_AGENT_CHARS = 500
MAX_DEVICE_ID_CHARS = 255
MAX_DEVICE_NAME_CHARS = 255
UNKNOWN_DEVICE = "Unknown device"
MAX_IP_CHARS = 45
OS_NAMES = {"Mac OS X": "macOS"}


@dataclass(frozen=True)
class DeviceInfo:
    device_name: str
    device_id: str | None
    ip_address: str | None
    user_agent: str | None


@lru_cache(maxsize=1024)
def device_name(user_agent: str) -> str:
    """ "Chrome on macOS", "Apple iPhone", … from a User-Agent string."""
    if not user_agent:
        return UNKNOWN_DEVICE
    # Imported on first use: its regular expressions cost every process ~0.15 s to load,
    # and a process that never names a device (the main process, the CLI) never pays it.
    from user_agents import parse as parse_user_agent

    ua = parse_user_agent(user_agent)
    if (ua.is_mobile or ua.is_tablet) and ua.device.brand and ua.device.model:
        return f"{ua.device.brand} {ua.device.model}"
    browser: str = ua.browser.family
    os_name: str = OS_NAMES.get(ua.os.family, ua.os.family)
    if browser != "Other" and os_name != "Other":
        return f"{browser} on {os_name}"
    if browser != "Other":
        return browser
    if os_name != "Other":
        return os_name
    return user_agent.split("/", 1)[0][:100] or UNKNOWN_DEVICE


# Control characters (C0, DEL, C1) and bidirectional formatting characters: never stored,
# so a stored value cannot drive a terminal or reorder what an admin reads.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_text(text: str, max_chars: int) -> str:
    """``text`` without control and bidi characters, trimmed, cut to ``max_chars``."""
    return UNPRINTABLE.sub("", text).strip()[:max_chars]


def storable_text(raw: str | None, max_chars: int) -> str | None:
    """A header value as stored: bytes that were not UTF-8 (kept by Sanic as lone surrogates,
    which no database encodes) become U+FFFD, then :func:`clean_text`; None when empty."""
    if not raw:
        return None
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return clean_text(text, max_chars) or None
