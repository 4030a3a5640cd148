"""The dashboard's address as the user typed it: normalized, or refused."""

from __future__ import annotations

import pytest

from custom_components.nezha.api import NezhaInvalidUrlError, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Example.COM", "http://example.com"),
        (" https://example.com:443/nezha/ ", "https://example.com/nezha"),
        ("http://example.com:8008/", "http://example.com:8008"),
        ("https://example.com/a/b?x=1#y", "https://example.com/a/b"),
        ("http://[2001:db8::1]:8008", "http://[2001:db8::1]:8008"),
        # Sub-paths are kept, with their case and escapes.
        ("https://status.example.com/nezha/sub/", "https://status.example.com/nezha/sub"),
        ("HTTPS://Status.Example.com:443/Nezha", "https://status.example.com/Nezha"),
        ("http://127.0.0.1:8008/a%20b", "http://127.0.0.1:8008/a%20b"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "example.com",
        "ftp://example.com",
        "http://user:pw@example.com",
        "http://",
        "",
        "http://a b",
        # yarl raises IndexError here.
        "0://[]@",
        # Only plain http(s), without credentials, with a host.
        "javascript:alert(1)",
        "file:///etc/passwd",
        "ws://example.com",
        "data:text/html,<script>",
        "https://:pw@example.com",
        "https://user@example.com",
        "https://user:@example.com",
        "//example.com",
        "http:///path-only",
        "http://exa mple.com",
        "http://example.com/\tx",
        "http://example.com\n/x",
    ],
)
def test_invalid_urls(url: str) -> None:
    with pytest.raises(NezhaInvalidUrlError):
        normalize_url(url)
