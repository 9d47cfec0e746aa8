from __future__ import annotations

import ipaddress
from types import SimpleNamespace
from typing import Any

import pytest

from sanic_auth_sessions.core.devices import device_name
from sanic_auth_sessions.http.client import client_ip, device_info

PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


def request(peer: str, headers: dict[str, str] | None = None) -> Any:
    return SimpleNamespace(conn_info=SimpleNamespace(client_ip=peer), headers=headers or {})


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome on macOS",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Apple iPhone",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox on Linux",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
    ],
)
def test_device_name(user_agent: str, expected: str) -> None:
    assert device_name(user_agent) == expected


def test_forwarded_for_is_ignored_from_untrusted_peers() -> None:
    spoof = request("203.0.113.9", {"x-forwarded-for": "1.2.3.4"})
    assert client_ip(spoof, ()) == "203.0.113.9"
    assert client_ip(spoof, PROXIES) == "203.0.113.9"


def test_forwarded_for_from_a_trusted_proxy() -> None:
    via_proxy = request("10.0.0.5", {"x-forwarded-for": "1.2.3.4, 198.51.100.7, 10.0.0.2"})
    assert client_ip(via_proxy, PROXIES) == "198.51.100.7"
    no_header = request("10.0.0.5")
    assert client_ip(no_header, PROXIES) == "10.0.0.5"
    garbage = request("10.0.0.5", {"x-forwarded-for": "not-an-ip"})
    assert client_ip(garbage, PROXIES) == "10.0.0.5"


def test_device_info_truncates_long_headers() -> None:
    info = device_info(
        request("127.0.0.1", {"user-agent": "A" * 2000, "x-device-id": "d" * 1000}), ()
    )
    assert len(info.user_agent or "") == 500
    assert len(info.device_id or "") == 255
    assert info.ip_address == "127.0.0.1"
