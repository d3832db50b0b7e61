"""Bounded, pinned fetching of the web pages a candidate points us at.

    make_site_client(policy) -> httpx.Client                      connects only where it checked
    fetch_html(url, client, policy, deadline=..., cache=...) -> FetchedPage   one HTML page, redirects by hand
    fetch_resource(url, client, policy, deadline=..., cache=...) -> FetchedResource  any type (a page's script)
    robots_rules(url, client, policy, deadline=..., cache=...) -> RobotsRules  RFC 9309, by protego
    robots_allows(url, client, policy, deadline=...) -> bool
    fetch_json(url, client, policy, deadline=..., cache=...) -> object   a public API's JSON reply
    fetch_text(url, client, policy, accept=..., deadline=..., cache=...) -> FetchedPage   e.g. a feed

Caching. With a `SourceCache`, a page or robots.txt stored within the TTL is served without a
request; an older one is revalidated with If-None-Match/If-Modified-Since, and a 304 serves it
again. Only replies that passed every check here (address, redirects, size, type) are stored, and
concurrent reads of the same URL in this process share one fetch.

Politeness. A caller's `before_send(url)` runs just before each request (each redirect's too)
leaves, never on a cache hit: pipeline/source_reader.py waits there for the host's turn.

Pinning. The client's transport owns an httpcore connection pool whose network backend resolves
the host with `resolve_public()` inside `connect_tcp` and opens the socket to one of the addresses
it just checked. DNS is asked once per connection, so a rebinding answer cannot slip a private
address in between the check and the connect. httpcore then starts TLS on that socket with
`server_hostname` set to the URL's host name, so SNI and certificate checks still use the name.

Bounds. Every socket operation gets the time left until the page's deadline (a context variable
the backend reads), so neither slow headers nor a trickled body outlive it. Bodies are streamed
raw and inflated here with `max_length`, so a gzip bomb never produces more than the cap.
"""

from __future__ import annotations

import codecs
import http.cookiejar
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
import idna
from protego import Protego

from core.cache import CachedResponse
from core.errors import FetchRefused, InvalidInput, NetworkError, NotFound, ServiceUnavailable, StepTimeout, UnsafeUrl
from pipeline.cache import SourceCache
from pipeline.retry_after import retry_after_s
from pipeline.transport import PAGE_DEADLINE, PinnedTransport
from pipeline.urls import check_url_static, normalize_url

USER_AGENT = "InterviewPrepBot/1.0 (+interview prep research; respects robots.txt)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
JSON_TYPES = ("application/json",)
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
ROBOTS_MAX_BYTES = 500_000  # RFC 9309 asks crawlers to parse at least 500 KiB
CREDENTIAL_HEADERS = ("authorization", "cookie", "proxy-authorization")
_TRANSIENT_STATUSES = {429, 500, 502, 503, 504}
BeforeSend = Callable[[str], None]  # called with each URL just before its request leaves
_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]{1,40})""", re.I)


@dataclass(frozen=True)
class FetchPolicy:
    """How far the fetcher may go: where, how much, how long."""

    allow_private: bool = False  # tests and local demos only: lifts the address and port checks
    max_bytes: int = 5_000_000  # bytes on the wire
    max_decompressed_bytes: int = 5_000_000  # bytes after Content-Encoding is undone
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    page_timeout_s: float = 10.0  # the most one page (all its redirects included) may take
    render_js: bool = False  # run a JavaScript-built page in Chromium (pipeline.render); PREP_RENDER_JS


@dataclass(frozen=True)
class FetchedPage:
    """One HTML page as read: the URL after redirects, its text, its status."""

    url: str
    html: str
    status: int


def make_site_client(policy: FetchPolicy) -> httpx.Client:
    """An httpx client that connects only to public addresses it resolved itself; no env proxies."""
    return httpx.Client(
        transport=PinnedTransport(policy.allow_private),
        trust_env=False,
        follow_redirects=False,
        timeout=policy.page_timeout_s,
        cookies=http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[])),
        headers={
            "User-Agent": policy.user_agent,
            "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            "Accept-Encoding": "gzip, deflate",  # the codings `_Inflater` can bound
            "Accept-Language": "en",
        },
    )


def fetch_html(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    *,
    deadline: float,
    cache: SourceCache | None = None,
    before_send: BeforeSend | None = None,
) -> FetchedPage:
    """Read one web page within `deadline` (a `time.monotonic()` value) and the policy's bounds.

    Errors: `UnsafeUrl` (address refused), `ServiceUnavailable` (429/5xx), `NotFound` (404/410),
    `FetchRefused` (other 4xx, not HTML, too big, redirect loop), `NetworkError` (unreachable, or
    the page's own time limit passed) and `StepTimeout` (the caller's deadline passed).
    `before_send(url)` runs just before each request leaves (none on a cache hit): the caller's politeness.
    """
    body = _cached_get(
        "page", url, client, policy, deadline, HTML_TYPES, cache, keep=lambda r: r.ok, before_send=before_send
    )
    return _document(body)


def fetch_text(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    *,
    accept: tuple[str, ...],
    deadline: float,
    cache: SourceCache | None = None,
    before_send: BeforeSend | None = None,
) -> FetchedPage:
    """Like `fetch_html`, for a document of one of the `accept` types (a feed, an API's reply); a
    404 or 410 is cached too, so "no such board" is not asked again within the TTL."""
    body = _cached_get(
        "text",
        url,
        client,
        policy,
        deadline,
        accept,
        cache,
        keep=lambda r: r.ok or r.status in (404, 410),
        before_send=before_send,
    )
    return _document(body)


def _document(body: _Response) -> FetchedPage:
    """The fetched body as a decoded document, once its status is an answer (else the error it means)."""
    _raise_for_status(body)
    return FetchedPage(
        url=body.url, html=_decode(body.content, body.headers.get("content-type", "")), status=body.status
    )


def fetch_json(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    *,
    deadline: float,
    cache: SourceCache | None = None,
    before_send: BeforeSend | None = None,
) -> object:
    """A public API's JSON reply, read through the same guard and cache as pages; `FetchRefused` if not JSON."""
    fetched = fetch_text(
        url, client, policy, accept=JSON_TYPES, deadline=deadline, cache=cache, before_send=before_send
    )
    try:
        return json.loads(fetched.html)
    except ValueError as e:
        raise FetchRefused(f"{url} answered with JSON that could not be read.") from e


@dataclass(frozen=True)
class FetchedResource:
    """One resource as read (a script, JSON, a page): the URL after redirects, its type and bytes."""

    url: str
    status: int
    content_type: str
    body: bytes


def fetch_resource(
    url: str, client: httpx.Client, policy: FetchPolicy, *, deadline: float, cache: SourceCache | None = None
) -> FetchedResource:
    """Read one resource of any type through the same guard, bounds and cache as pages; errors as `fetch_html`."""
    body = _cached_get("resource", url, client, policy, deadline, None, cache, keep=lambda r: r.ok)
    _raise_for_status(body)
    return FetchedResource(body.url, body.status, body.headers.get("content-type", ""), body.content)


@dataclass(frozen=True)
class RobotsRules:
    """A site's robots.txt as RFC 9309 reads it: the longest matching rule wins, `*` and `$` work."""

    url: str  # the robots.txt URL
    parser: Protego

    def can_fetch(self, user_agent: str, url: str) -> bool:
        """Whether the group for `user_agent` (else `*`) lets it read `url`."""
        return self.parser.can_fetch(url, user_agent)

    def spacing_s(self, user_agent: str) -> float:
        """The seconds the group for `user_agent` asks between requests: its Crawl-delay, or its
        Request-rate's seconds per request, whichever is longer; 0 when it asks neither."""
        rate = self.parser.request_rate(user_agent)
        per_request = rate.seconds / rate.requests if rate is not None and rate.requests > 0 else 0.0
        return max(float(self.parser.crawl_delay(user_agent) or 0.0), per_request)


def robots_rules(
    url: str, client: httpx.Client, policy: FetchPolicy, deadline: float, cache: SourceCache | None = None
) -> RobotsRules:
    """The robots.txt rules of `url`'s site, read through the same guard as pages (RFC 9309)."""
    parts = urlsplit(normalize_url(url))
    robots_url = urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", ""))
    small = replace(
        policy,
        max_bytes=min(policy.max_bytes, ROBOTS_MAX_BYTES),
        max_decompressed_bytes=min(policy.max_decompressed_bytes, ROBOTS_MAX_BYTES),
    )
    allow_all = RobotsRules(robots_url, Protego.parse(""))
    try:
        body = _cached_get("robots", robots_url, client, small, deadline, None, cache, keep=_robots_settled)
    except FetchRefused:  # a redirect loop, or too big: RFC 9309 calls that "unavailable"
        return allow_all
    if not body.ok:
        # 4xx means "no rules" (RFC 9309, 2.3.1.3). 5xx would mean "disallow all" to a crawler, but
        # we read at most five pages once, for a person who asked; the page fetch itself reports
        # the outage as a transient error, which is more useful than a permanent refusal here.
        return allow_all
    return RobotsRules(robots_url, Protego.parse(body.content.decode("utf-8", errors="replace")))


def robots_allows(url: str, client: httpx.Client, policy: FetchPolicy, deadline: float) -> bool:
    """Whether the site's robots.txt lets the tool's User-Agent read `url`."""
    return robots_rules(url, client, policy, deadline=deadline).can_fetch(policy.user_agent, url)


def _robots_settled(body: _Response) -> bool:
    """A robots.txt answer worth keeping: the rules, or a 4xx that says there are none."""
    return body.ok or 400 <= body.status < 500


# --- the cache in front of the fetcher ---------------------------------------------------------


def _cached_get(
    kind: str,
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    accept: tuple[str, ...] | None,
    cache: SourceCache | None,
    *,
    keep: Callable[[_Response], bool],
    before_send: BeforeSend | None = None,
) -> _Response:
    """`_get` through the cache: a fresh entry is served, a stale one revalidated, `keep` decides what is stored."""
    if cache is None:
        return _get(url, client, policy, deadline, accept=accept, before_send=before_send)
    # The static checks run on a hit too; what a process allowed to read private addresses stored
    # is kept apart, so a public-only process never serves it.
    key = f"{kind}{'-private' if policy.allow_private else ''} {_checked(url, None, policy)}"
    entry, fresh = cache.lookup(key)
    if entry is not None and fresh:
        return _Response.of(entry)

    def fetch() -> _Response:
        body = _get(url, client, policy, deadline, accept=accept, stored=entry, before_send=before_send)
        if body.status == 304 and entry is not None:
            cache.store.save(key, entry.revalidated())
            return _Response.of(entry)
        if keep(body):
            cache.store.save(key, CachedResponse.of(body.url, body.status, body.headers, body.content))
        return body

    return cache.inflight.run(key, fetch, deadline)


# --- one GET, redirects by hand ----------------------------------------------------------------


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    headers: httpx.Headers
    content: bytes  # empty unless the status is 2xx

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @classmethod
    def of(cls, entry: CachedResponse) -> _Response:
        return cls(entry.url, entry.status, httpx.Headers({"content-type": entry.content_type}), entry.body)


class _OutOfTime(Exception):
    pass


def _get(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    deadline: float,
    *,
    accept: tuple[str, ...] | None,
    stored: CachedResponse | None = None,
    before_send: BeforeSend | None = None,
) -> _Response:
    """GET `url`, following redirects by hand; the body is read (bounded) only for 2xx answers.

    With `stored`, the request to the URL that answered last time carries its validators.
    """
    page_deadline = min(deadline, time.monotonic() + policy.page_timeout_s)
    token = PAGE_DEADLINE.set(page_deadline)
    try:
        return _follow(url, client, policy, page_deadline, accept, stored, before_send)
    except (_OutOfTime, httpx.TimeoutException) as e:
        if deadline <= page_deadline:
            raise StepTimeout(f"Reading {url} was stopped because the step ran out of time.") from e
        raise NetworkError(f"{url} did not finish loading within {policy.page_timeout_s:g} seconds.") from e
    except httpx.TransportError as e:
        raise NetworkError(f"{url} could not be reached ({type(e).__name__}: {e}).") from e
    except httpx.InvalidURL as e:
        raise FetchRefused(f"{url} is not an address that can be fetched ({e}).") from e
    finally:
        PAGE_DEADLINE.reset(token)


def _follow(
    url: str,
    client: httpx.Client,
    policy: FetchPolicy,
    page_deadline: float,
    accept: tuple[str, ...] | None,
    stored: CachedResponse | None,
    before_send: BeforeSend | None,
) -> _Response:
    first = current = _checked(url, None, policy)
    seen = {first}
    for _ in range(policy.max_redirects + 1):
        if before_send is not None:  # before the request's timeout is taken from what is left
            before_send(current)
        request = client.build_request("GET", current, timeout=_timeout(page_deadline))
        if stored is not None and stored.url == current:
            request.headers.update(stored.validators())
        if origin(current) != origin(first):  # never hand credentials to another origin
            for name in CREDENTIAL_HEADERS:
                request.headers.pop(name, None)
        try:
            response = client.send(request, stream=True, follow_redirects=False)
        except idna.IDNAError as e:  # httpx decodes a redirect's host to build `next_request`, even unfollowed
            raise FetchRefused(
                f"{current} redirected to an address that cannot be read: its host name is not valid IDNA."
            ) from e
        try:
            if response.has_redirect_location:  # not a 304, nor a 3xx without a target
                target = _checked(urljoin(current, response.headers["location"]), current, policy)
                if target in seen:
                    raise FetchRefused(f"{url} redirects in a loop, so it was not read.")
                seen.add(target)
                current = target
                continue
            if not response.is_success:
                return _Response(current, response.status_code, response.headers, b"")
            if accept is not None:
                _check_type(current, response.headers.get("content-type", ""), accept)
            content = _read_body(current, response, policy, page_deadline)
            return _Response(current, response.status_code, response.headers, content)
        finally:
            response.close()
    raise FetchRefused(f"{url} redirected more than {policy.max_redirects} times, so it was not read.")


def _checked(url: str, redirected_from: str | None, policy: FetchPolicy) -> str:
    """The URL normalized and statically checked; a bad redirect target is named as such."""
    try:
        normalized = normalize_url(url)
        check_url_static(normalized, policy.allow_private)
    except UnsafeUrl as e:
        if redirected_from is None:
            raise
        raise UnsafeUrl(f"{redirected_from} redirected to {url}: {e.message}") from e
    except InvalidInput as e:
        if redirected_from is None:
            raise
        raise FetchRefused(f"{redirected_from} redirected to an address that cannot be read: {e.message}") from e
    return normalized


def _timeout(page_deadline: float) -> httpx.Timeout:
    left = page_deadline - time.monotonic()
    if left <= 0:
        raise _OutOfTime()
    return httpx.Timeout(left)


def origin(url: str) -> tuple[str, str, int | None]:
    """The scheme, host and port of `url` (RFC 6454): what robots.txt and credentials are scoped to."""
    parts = urlsplit(url)
    return parts.scheme, parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _check_type(url: str, content_type: str, accept: tuple[str, ...]) -> None:
    mime = content_type.split(";")[0].strip().lower()
    if mime not in accept:
        raise FetchRefused(f"{url} is not a web page ({mime or 'no content type'}), so it was not read.")


def _read_body(url: str, response: httpx.Response, policy: FetchPolicy, page_deadline: float) -> bytes:
    """The decoded body, refused past either size cap and stopped at the page deadline."""
    too_big = FetchRefused(f"{url} is larger than {policy.max_bytes / 1e6:g} MB, so it was not read.")
    try:
        declared = int(response.headers.get("content-length", "") or -1)
    except ValueError:
        declared = -1
    if declared > policy.max_bytes:
        raise too_big
    inflater = _Inflater(url, response.headers.get("content-encoding", ""))
    limit = policy.max_decompressed_bytes
    received = 0
    parts: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > policy.max_bytes:
            raise too_big
        piece = inflater.feed(chunk, limit - size)
        size += len(piece)
        if size > limit:
            raise FetchRefused(f"{url} unpacks to more than {limit / 1e6:g} MB, so it was not read.")
        parts.append(piece)
        if time.monotonic() > page_deadline:
            raise _OutOfTime()
    return b"".join(parts)


class _Inflater:
    """Undoes gzip/deflate Content-Encoding, never producing more than it is given room for."""

    def __init__(self, url: str, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchRefused(f"{url} uses a compression we do not read ({content_encoding}).")
        self._url = url
        self._coding = codings[0] if codings else None
        self._wbits = zlib.MAX_WBITS | 16 if self._coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to `room + 1` decoded bytes of `data`: more than `room` means the cap is passed."""
        if self._coding is None:
            return data[: room + 1]
        out = b""
        try:
            while data and len(out) <= room:
                if self._zlib.eof:  # a second gzip member follows the first; anything else is junk
                    if not data.startswith(b"\x1f\x8b"):
                        break
                    self._zlib = zlib.decompressobj(self._wbits)
                out += self._inflate(data, room + 1 - len(out))
                data = self._zlib.unused_data if self._zlib.eof else b""
        except zlib.error as e:
            raise FetchRefused(f"{self._url} sent a compressed body that could not be unpacked.") from e
        return out

    def _inflate(self, data: bytes, max_length: int) -> bytes:
        if not self._started and self._coding == "deflate":
            self._started = True
            try:  # "deflate" should be zlib-wrapped; some servers send it raw
                return self._zlib.decompress(data, max_length)
            except zlib.error:
                self._wbits = -zlib.MAX_WBITS
                self._zlib = zlib.decompressobj(self._wbits)
        return self._zlib.decompress(data, max_length)


def _raise_for_status(body: _Response) -> None:
    status, url = body.status, body.url
    if 200 <= status < 300:
        return
    if status in _TRANSIENT_STATUSES:
        raise ServiceUnavailable(
            f"{url} is temporarily unavailable (HTTP {status}).", retry_after=retry_after_s(body.headers)
        )
    if status in (404, 410):
        raise NotFound(f"{url} does not exist (HTTP {status}).")
    raise FetchRefused(f"{url} answered HTTP {status}, so it was not read.")


def _decode(content: bytes, content_type: str) -> str:
    """Text by the header's charset, else <meta charset>, else UTF-8; bad bytes become U+FFFD."""
    if content.startswith(codecs.BOM_UTF8):
        return content[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    header = re.search(r"charset\s*=\s*[\"']?([\w.:-]+)", content_type, re.I)
    meta = _META_CHARSET.search(content[:4096])
    label = header.group(1) if header else meta.group(1).decode("ascii") if meta else "utf-8"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        name = "utf-8"
    if name in ("ascii", "latin-1", "iso8859-1"):
        name = "cp1252"  # what browsers do with these labels (WHATWG Encoding)
    elif name.startswith("utf-16") and not header:
        name = "utf-8"  # a <meta> that a byte-oriented parser could read cannot really be UTF-16
    try:
        return content.decode(name, errors="replace")
    except (LookupError, UnicodeError):  # a label naming a non-text codec ("base64", "undefined")
        return content.decode("utf-8", errors="replace")
