"""Who is calling, read off the request: the client IP (trusted-proxy aware) and the device."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from sanic import Request

from sanic_auth_sessions.core.devices import (
    MAX_DEVICE_ID_CHARS,
    MAX_DEVICE_NAME_CHARS,
    MAX_USER_AGENT_CHARS,
    UNKNOWN_DEVICE,
    DeviceInfo,
    clean_text,
    device_name,
    storable_text,
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


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


def header_text(request: Request, name: str, max_chars: int) -> str:
    """A header as storable text: Sanic keeps bytes that are not UTF-8 as lone surrogates,
    which no database encodes; they become U+FFFD. Then :func:`clean_text`."""
    return storable_text(request.headers.get(name), max_chars) or ""


def device_info(request: Request, trusted_proxies: tuple[Network, ...]) -> DeviceInfo:
    user_agent = header_text(request, "user-agent", MAX_USER_AGENT_CHARS)
    device_id = header_text(request, "x-device-id", MAX_DEVICE_ID_CHARS)
    return DeviceInfo(
        device_name=clean_text(device_name(user_agent), MAX_DEVICE_NAME_CHARS) or UNKNOWN_DEVICE,
        device_id=device_id or None,
        ip_address=client_ip(request, trusted_proxies),
        user_agent=user_agent or None,
    )
