"""Which web addresses the tool agrees to fetch (OWASP SSRF, "any external domain" case).

    normalize_url(raw) -> str                      the candidate's text as one canonical http(s) URL
    check_url_static(url, allow_private)           what the URL alone shows: port, literal IP, name
    is_public_address(ip) -> bool                  is this IP on the public internet?
    resolve_public(host, port, allow_private)      DNS once; every address must be public

The static check runs at submit time and before every redirect hop; `resolve_public` runs where the
socket is opened (see `pipeline.fetch`), so the address checked is the address connected to.
`allow_private` (tests, a local demo) lifts the address and port checks only, never the scheme or
credential rules, and never opens the cloud metadata endpoints.

Numeric hosts are read the way a browser (and `inet_aton`) reads them: `2130706433`, `0x7f.1`,
`0177.0.0.1` and `127.1` are all 127.0.0.1, and `normalize_url` writes them out as dotted quads so
that every later parser sees the same address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from urllib.parse import urlsplit, urlunsplit

import idna

from core.errors import InvalidInput, NetworkError, NotFound, UnsafeUrl
from core.request import MAX_URL_CHARS

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

URL_FIELD = "companyUrl"
ALLOWED_SCHEMES = ("http", "https")
PUBLIC_PORTS = (80, 443)
MAX_HOST_CHARS = 253

# Names that never lead to a public web site: loopback, mDNS, private and reserved suffixes.
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_LOCAL_SUFFIXES = (
    ".localhost", ".local", ".localdomain", ".internal", ".intranet", ".lan", ".home", ".corp",
    ".private", ".home.arpa", ".arpa", ".test", ".example", ".invalid", ".onion",
)  # fmt: skip

# Never public, whatever Python's `is_global` says about them (it calls multicast and 6to4 global).
_NOT_PUBLIC = [
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
        "2001:db8::/32", "3fff::/20", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
]  # fmt: skip
# Cloud metadata and platform endpoints: refused even when private addresses are allowed.
_ALWAYS_REFUSED = [
    ipaddress.ip_network(net)
    for net in ("169.254.0.0/16", "168.63.129.16/32", "100.100.100.200/32", "fd00:ec2::254/128")
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}  # DNS: the name does not exist

_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_HOST_NAME = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$")
_DECIMAL = re.compile(r"^[0-9]+$")
_OCTAL = re.compile(r"^0[0-7]*$")
_HEX = re.compile(r"^0[xX][0-9a-fA-F]*$")


def normalize_url(raw: str) -> str:
    """The candidate's text as a canonical http(s) URL, or `InvalidInput` saying what is wrong."""
    text = raw.strip()
    if not text:
        raise _invalid("Enter the company's website address, or leave the field empty.")
    if len(text) > MAX_URL_CHARS:
        raise _invalid(f"The website address is longer than {MAX_URL_CHARS} characters.")
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in text):
        raise _invalid("The website address contains spaces or invisible characters.")
    if "\\" in text:
        raise _invalid("The website address contains a backslash; use / in web addresses.")
    text = _with_scheme(text)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _invalid("The website address is not valid (check the brackets and the port).") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise _invalid("Only http:// and https:// addresses are supported.")
    if "@" in parts.netloc:
        raise _invalid("The website address must not contain a user name or password.")
    if port == 0:
        raise _invalid("The port in the website address must be between 1 and 65535.")
    host = _canonical_host(parts.hostname or "")
    scheme = parts.scheme.lower()
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        netloc += f":{port}"
    url = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(url) > MAX_URL_CHARS:
        raise _invalid(f"The website address is longer than {MAX_URL_CHARS} characters.")
    return url


def check_url_static(url: str, allow_private: bool) -> None:
    """Refuse, with `UnsafeUrl`, what the URL alone shows is not a public web site."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(f"{url} is not a valid web address.", field=URL_FIELD) from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeUrl("Only http:// and https:// addresses are fetched.", field=URL_FIELD)
    if "@" in parts.netloc:
        raise UnsafeUrl("Addresses with a user name or password are not fetched.", field=URL_FIELD)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeUrl(f"{url} has no host name.", field=URL_FIELD)
    if port is not None and port not in PUBLIC_PORTS and not allow_private:
        raise UnsafeUrl(f"Only the standard web ports (80 and 443) are fetched, not port {port}.", field=URL_FIELD)
    try:
        ip = _literal_ip(host)
    except ValueError:
        raise UnsafeUrl(f"{host} looks like a numeric address but is not a valid one.", field=URL_FIELD) from None
    if ip is not None:
        _check_address(host, ip, allow_private)
    elif not allow_private and _is_local_name(host):
        raise UnsafeUrl(f"{host} is a local or private name, not a public web site.", field=URL_FIELD)


def is_public_address(ip: str | IPAddress) -> bool:
    """Whether `ip` is on the public internet; IPv4 embedded in IPv6 is judged as the IPv4 it carries."""
    try:
        address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    except ValueError:
        return False
    address = _embedded_ipv4(address) or address
    if _always_refused(address) or any(address in net for net in _NOT_PUBLIC if net.version == address.version):
        return False
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_link_local or address.is_unspecified
    )


def resolve_public(host: str, port: int, allow_private: bool) -> list[str]:
    """Look `host` up once; every address must be public (unless allowed), or `UnsafeUrl`."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        if e.errno in _NO_SUCH_NAME:
            raise NotFound(f"No web site was found at {host}: the name does not exist.") from e
        raise NetworkError(f"The address of {host} could not be looked up ({e.strerror}).") from e
    except UnicodeError as e:
        raise InvalidInput(f"{host} is not a valid host name.", field=URL_FIELD) from e
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise NotFound(f"No web site was found at {host}: the name has no address.")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            raise UnsafeUrl(
                f"{host} resolves to {address}, which is not an address we fetch.", field=URL_FIELD
            ) from None
        _check_address(host, ip, allow_private)
    return addresses


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, field=URL_FIELD)


def _with_scheme(text: str) -> str:
    """Add https:// to "example.com"; leave "http://..." alone; keep "mailto:x" so it is refused."""
    if text.startswith("//"):
        return "https:" + text
    match = _SCHEME.match(text)
    if match and not text[match.end() :][:1].isdigit():  # "example.com:8080" is a host and a port
        return text
    return "https://" + text


def _canonical_host(host: str) -> str:
    """Lower-case ASCII host: IDNA for names, dotted quads for numeric IPv4, compressed IPv6."""
    if not host:
        raise _invalid("The website address needs a host name, like example.com.")
    if ":" in host:  # an IPv6 literal (urlsplit has removed the brackets)
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            raise _invalid(f"[{host}] is not a valid IPv6 address.") from None
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (UnicodeError, ValueError):
            raise _invalid(f"{host} is not a valid host name.") from None
    host = host.lower()
    try:
        ip = _literal_ip(host.rstrip("."))
    except ValueError:
        raise _invalid(f"{host} looks like a numeric address but is not a valid one.") from None
    if ip is not None:
        return str(ip)
    if len(host) > MAX_HOST_CHARS or not _HOST_NAME.match(host) or not _valid_a_labels(host):
        raise _invalid(f"{host} is not a valid host name.")
    return host


def _valid_a_labels(host: str) -> bool:
    """Whether every punycode (xn--) label decodes to a valid IDNA name: httpx decodes them when
    it connects and raises deep inside the request on one that does not (`xn--a` is U+0080)."""
    try:
        for label in host.rstrip(".").split("."):
            if label.startswith("xn--"):
                idna.decode(label)
    except (UnicodeError, ValueError):  # idna.IDNAError is a UnicodeError
        return False
    return True


def _literal_ip(host: str) -> IPAddress | None:
    """The IP a host literally spells (any inet_aton form), None for a name, ValueError for junk."""
    if ":" in host:
        return ipaddress.IPv6Address(host.strip("[]"))
    labels = host.split(".")
    last = labels[-1]
    if not (_DECIMAL.match(last) or _HEX.match(last) or _OCTAL.match(last)):
        return None  # a name: the last label is not a number (WHATWG "ends in a number")
    numbers = [_ipv4_number(label) for label in labels]
    if len(numbers) > 4 or any(n is None or n > 255 for n in numbers[:-1]):
        raise ValueError(host)
    value = numbers[-1]
    if value is None or value >= 256 ** (5 - len(numbers)):
        raise ValueError(host)
    for i, number in enumerate(numbers[:-1]):
        value += number << (8 * (3 - i))  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int | None:
    if _HEX.match(label):
        return int(label[2:] or "0", 16)
    if _OCTAL.match(label):
        return int(label, 8)
    if _DECIMAL.match(label):
        return int(label, 10)
    return None  # includes "" and decimal-looking octal like "08"


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, IPv4-compatible, 6to4 or NAT64 IPv6 address."""
    if ip.version != 6:
        return None
    assert isinstance(ip, ipaddress.IPv6Address)
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # 64:ff9b::a.b.c.d and ::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _always_refused(ip: IPAddress) -> bool:
    candidates = [c for c in (ip, _embedded_ipv4(ip)) if c is not None]
    return any(c in net for c in candidates for net in _ALWAYS_REFUSED if net.version == c.version)


def _check_address(host: str, ip: IPAddress, allow_private: bool) -> None:
    shown = host if host == str(ip) else f"{host} ({ip})"
    if _always_refused(ip):
        raise UnsafeUrl(f"{shown} is a cloud metadata address, which is never fetched.", field=URL_FIELD)
    if not allow_private and not is_public_address(ip):
        raise UnsafeUrl(f"{shown} is not a public internet address, so it is not fetched.", field=URL_FIELD)


def _is_local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or "." not in host or host.endswith(_LOCAL_SUFFIXES)
