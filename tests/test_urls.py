"""URL validation and address policy: the SSRF corpus."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput, NetworkError, NotFound, UnsafeUrl
from pipeline.urls import check_url_static, is_public_address, normalize_url, resolve_public


def refused(raw: str, allow_private: bool = False) -> bool:
    """Whether the URL is refused at submit time (by normalize_url or the static check)."""
    try:
        check_url_static(normalize_url(raw), allow_private)
    except InvalidInput:
        return True
    return False


# --- normalize_url -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("example.com", "https://example.com/"),
        ("  https://Example.COM/Careers?x=1#team  ", "https://example.com/Careers?x=1"),
        ("HTTP://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443", "https://example.com/"),
        ("example.com:8443/x", "https://example.com:8443/x"),
        ("//example.com/x", "https://example.com/x"),
        ("bücher.de", "https://xn--bcher-kva.de/"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "https://example.com/"),
        ("2130706433", "https://127.0.0.1/"),
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://0177.0.0.1/", "http://127.0.0.1/"),
        ("http://127.1/", "http://127.0.0.1/"),
        ("http://[::FFFF:127.0.0.1]/", "http://[::ffff:7f00:1]/"),
    ],
)
def test_normalize_url_canonical_form(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("", "Enter"),
        ("   ", "Enter"),
        ("ftp://example.com/", "http"),
        ("file:///etc/passwd", "http"),
        ("javascript:alert(1)", "http"),
        ("gopher://example.com:70/", "http"),
        ("data:text/html,hi", "http"),
        ("https://user:secret@example.com/", "password"),
        ("https://user@example.com/", "password"),
        ("https://example.com@evil.com/", "password"),
        ("https://exa mple.com/", "spaces"),
        ("https://example.com/\x00", "invisible"),
        ("https://example.com/\r\nHost: evil", "spaces"),
        ("https://exam\u200bple.com/", "invisible"),
        ("https://evil.com\\@example.com/", "backslash"),
        ("https:///path", "host name"),
        ("https://example.com:99999/", "valid"),
        ("https://example.com:0/", "port"),
        ("https://[::1/", "valid"),
        ("https://[not-ipv6]/", "valid"),
        ("https://exa%6dple.com/", "host name"),
        ("https://-bad-.com/", "host name"),
        ("https://1.2.3.4.5/", "numeric"),
        ("https://1.2.3.256/", "numeric"),
        ("https://a.b.08/", "numeric"),
        ("https://" + "a" * 64 + ".com/", "host name"),
        ("https://example.com/" + "a" * 2048, "2048"),
    ],
)
def test_normalize_url_refuses_with_a_sentence(raw: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize_url(raw)
    assert caught.value.field == "companyUrl"
    assert words in caught.value.message
    assert caught.value.message.endswith(".")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200) | st.from_regex(r"\A(https?://)?[a-z0-9.:\[\]@%-]{0,40}(/.{0,20})?\Z"))
def test_normalize_url_only_returns_a_url_or_raises_invalid_input(raw: str) -> None:
    try:
        url = normalize_url(raw)
    except InvalidInput:
        return
    assert url.startswith(("http://", "https://"))
    assert normalize_url(url) == url  # already canonical


# --- check_url_static ----------------------------------------------------------------------------

LOOPBACK_TRICKS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.1/",
    "http://0x7F.0.0.0x1/",
    "http://0177.0.0.1/",
    "http://0177.1/",
    "http://017700000001/",
    "http://127.000.000.001/",
    "http://127.0.0.1./",
    "http://１２７．０．０．１/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::127.0.0.1]/",
    "http://[2002:7f00:1::]/",
    "http://0/",
    "http://0.0.0.0/",
    "http://[::]/",
]
PRIVATE_ADDRESSES = [
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://192.0.2.10/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://0xa.0.0.1/",
    "http://167772161/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:192.168.0.1]/",
]
METADATA_ADDRESSES = [
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/",
    "http://0xa9.0xfe.0xa9.0xfe/",
    "http://0251.0376.0251.0376/",
    "http://169.254.43518/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://168.63.129.16/",
    "http://100.100.100.200/",
    "http://[fd00:ec2::254]/",
]
LOCAL_NAMES = [
    "http://localhost/",
    "http://LOCALHOST./",
    "http://ｌｏｃａｌｈｏｓｔ/",
    "http://api.localhost/",
    "http://metadata.google.internal/",
    "http://printer.local/",
    "http://router.lan/",
    "http://intranet/",
    "http://box.home.arpa/",
]


@pytest.mark.parametrize("url", LOOPBACK_TRICKS + PRIVATE_ADDRESSES + METADATA_ADDRESSES + LOCAL_NAMES)
def test_non_public_targets_are_refused(url: str) -> None:
    assert refused(url)


@pytest.mark.parametrize("url", LOOPBACK_TRICKS + PRIVATE_ADDRESSES + LOCAL_NAMES)
def test_allow_private_lifts_the_address_check(url: str) -> None:
    assert not refused(url, allow_private=True)


@pytest.mark.parametrize("url", METADATA_ADDRESSES)
def test_metadata_addresses_stay_refused_when_private_is_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl, match="metadata"):
        check_url_static(normalize_url(url), allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.com/", "https://u:p@example.com/", "file:///etc/passwd"])
def test_allow_private_does_not_lift_scheme_or_credential_rules(url: str) -> None:
    assert refused(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/",
        "http://example.com:80/",
        "https://example.com:443/",
        "https://8.8.8.8/",
        "https://0x8.0x8.0x8.0x8/",
        "https://134744072/",
        "https://[2606:4700:4700::1111]/",
        "https://[::ffff:8.8.8.8]/",
        "https://[2002:808:808::]/",
        "https://www.company.io/careers",
        "https://localhost.example.com/",
    ],
)
def test_public_targets_pass(url: str) -> None:
    assert not refused(url)


@pytest.mark.parametrize("port", [22, 25, 6379, 8080, 8443, 9200])
def test_only_web_ports_unless_private_is_allowed(port: int) -> None:
    url = f"https://example.com:{port}/"
    with pytest.raises(UnsafeUrl, match="port"):
        check_url_static(url, allow_private=False)
    check_url_static(url, allow_private=True)


def test_static_check_refuses_other_schemes_even_when_not_normalized() -> None:
    with pytest.raises(UnsafeUrl):
        check_url_static("gopher://example.com/", allow_private=True)
    with pytest.raises(UnsafeUrl):
        check_url_static("https://user@example.com/", allow_private=True)


# --- is_public_address ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1",
        "100.127.255.255", "0.0.0.0", "0.1.2.3", "224.0.0.251", "240.0.0.1", "192.0.2.1",
        "198.51.100.1", "203.0.113.1", "168.63.129.16", "::1", "::", "fe80::1", "fc00::1",
        "fd00:ec2::254", "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254",
        "2002:c0a8:0101::1", "64:ff9b::10.0.0.1", "64:ff9b::7f00:1", "::10.0.0.1", "not an ip", "",
    ],
)  # fmt: skip
def test_not_public(ip: str) -> None:
    assert not is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public(ip: str) -> None:
    assert is_public_address(ip)


# --- resolve_public ------------------------------------------------------------------------------


def test_resolve_public_refuses_a_name_that_resolves_to_loopback() -> None:
    with pytest.raises(UnsafeUrl, match="127.0.0.1"):
        resolve_public("localhost", 80, allow_private=False)
    assert "127.0.0.1" in resolve_public("localhost", 80, allow_private=True)


def fake_dns(answers: list[str]):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers
        ]

    return getaddrinfo


def test_resolve_public_refuses_when_any_address_is_private(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["93.184.216.34", "10.0.0.5"]))
    with pytest.raises(UnsafeUrl, match="10.0.0.5"):
        resolve_public("rebind.example.com", 443, allow_private=False)


def test_resolve_public_returns_every_checked_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["93.184.216.34", "2606:2800:220:1::1", "93.184.216.34"]))
    assert resolve_public("example.com", 443, allow_private=False) == ["93.184.216.34", "2606:2800:220:1::1"]


def test_resolve_public_refuses_metadata_even_when_private_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", fake_dns(["169.254.169.254"]))
    with pytest.raises(UnsafeUrl, match="metadata"):
        resolve_public("metadata.example.com", 80, allow_private=True)


@pytest.mark.parametrize(("errno", "error"), [(socket.EAI_NONAME, NotFound), (socket.EAI_AGAIN, NetworkError)])
def test_resolve_public_dns_failures(monkeypatch: pytest.MonkeyPatch, errno: int, error: type[Exception]) -> None:
    def failing(*args, **kwargs):
        raise socket.gaierror(errno, "lookup failed")

    monkeypatch.setattr(socket, "getaddrinfo", failing)
    with pytest.raises(error, match="nowhere.example"):
        resolve_public("nowhere.example", 443, allow_private=False)
