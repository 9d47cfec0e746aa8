"""Who is calling: client IP (trusted-proxy aware) and a readable device name."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from sanic import Request
from user_agents import parse as parse_user_agent

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

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


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def _is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Iterable[Network]
) -> bool:
    return any(address in network for network in proxies)


def client_ip(request: Request, trusted_proxies: tuple[Network, ...]) -> str | None:
    """The peer address, or the first untrusted hop of ``X-Forwarded-For`` from the right.

    ``X-Forwarded-For`` is honoured only when the peer itself is a trusted proxy, so a
    client cannot choose the IP it is rate limited or recorded under.
    """
    peer = _parse_ip(request.conn_info.client_ip if request.conn_info else "")
    if peer is None:
        return None
    if not trusted_proxies or not _is_trusted(peer, trusted_proxies):
        return str(peer)
    forwarded = request.headers.get("x-forwarded-for", "")
    hops = [_parse_ip(part) for part in forwarded.split(",") if part.strip()]
    for hop in reversed(hops):
        if hop is None:
            break
        if not _is_trusted(hop, trusted_proxies):
            return str(hop)
    return str(peer)


@lru_cache(maxsize=1024)
def device_name(user_agent: str) -> str:
    """ "Chrome on macOS", "Apple iPhone", … from a User-Agent string."""
    if not user_agent:
        return UNKNOWN_DEVICE
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


def header_text(request: Request, name: str, max_chars: int) -> str:
    """A header as storable text: Sanic keeps bytes that are not UTF-8 as lone surrogates,
    which no database encodes; they become U+FFFD. Then :func:`clean_text`."""
    raw = request.headers.get(name, "")
    text = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return clean_text(text, max_chars)


def device_info(request: Request, trusted_proxies: tuple[Network, ...]) -> DeviceInfo:
    user_agent = header_text(request, "user-agent", MAX_USER_AGENT_CHARS)
    device_id = header_text(request, "x-device-id", MAX_DEVICE_ID_CHARS)
    return DeviceInfo(
        device_name=clean_text(device_name(user_agent), MAX_DEVICE_NAME_CHARS) or UNKNOWN_DEVICE,
        device_id=device_id or None,
        ip_address=client_ip(request, trusted_proxies),
        user_agent=user_agent or None,
    )
