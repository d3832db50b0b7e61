"""fetch_html and robots against real servers on 127.0.0.1: bounds, redirects, pinning, errors."""

from __future__ import annotations

import email.utils
import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest

from core.errors import FetchRefused, NetworkError, NotFound, ServiceUnavailable, StepTimeout, UnsafeUrl
from harness.fakes.server import FakeServer, Reply, Request
from harness.fakes.site import FakeSite
from pipeline.fetch import FetchPolicy, fetch_html, make_site_client, robots_allows
from tests.helpers import LOCAL_POLICY

SMALL = replace(LOCAL_POLICY, max_bytes=1_000_000, max_decompressed_bytes=1_000_000)


class OtherSite(FakeServer):
    """Another origin (another port): one small HTML page at every path."""

    def handle(self, request: Request) -> Reply:
        return Reply.html("<html><body><h1>Elsewhere</h1></body></html>")


@pytest.fixture(scope="module")
def other_site() -> Iterator[OtherSite]:
    server = OtherSite().start()
    yield server
    server.stop()


@pytest.fixture
def other(other_site: OtherSite) -> OtherSite:
    other_site.reset()
    return other_site


def soon(seconds: float = 5.0) -> float:
    return time.monotonic() + seconds


def fetch(site: FakeServer, path: str, client: httpx.Client, policy: FetchPolicy = LOCAL_POLICY, seconds: float = 5.0):
    return fetch_html(site.url + path, client, policy, deadline=soon(seconds))


def html_reply(body: bytes, content_type: str = "text/html", **kwargs: object) -> Reply:
    return Reply(200, body, {"Content-Type": content_type}, **kwargs)  # type: ignore[arg-type]


# --- the happy path ------------------------------------------------------------------------------


def test_fetches_a_page_with_the_bots_own_user_agent(fake_site: FakeSite, site_client: httpx.Client) -> None:
    page = fetch(fake_site, "/", site_client)
    assert page.status == 200
    assert page.url == fake_site.url + "/"
    assert "Kubernetes" in page.html
    sent = fake_site.requests[-1].headers
    assert sent["user-agent"].startswith("InterviewPrepBot/1.0")
    assert sent["accept-encoding"] == "gzip, deflate"


def test_client_ignores_proxy_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, fake_site: FakeSite
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with make_site_client(LOCAL_POLICY) as client:
        assert fetch(fake_site, "/about", client).status == 200
    assert fake_site.hits("/about") == 1


# --- redirects -----------------------------------------------------------------------------------


def test_follows_redirects_and_reports_the_final_url(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/old", Reply(301, headers={"Location": "/new"}))
    fake_site.fail("/new", Reply(307, headers={"Location": f"{fake_site.url}/about"}))
    page = fetch(fake_site, "/old", site_client)
    assert page.url == fake_site.url + "/about"
    assert "Founded in 2015" in page.html


def test_too_many_redirects_are_refused(fake_site: FakeSite, site_client: httpx.Client) -> None:
    for i in range(1, 4):
        fake_site.fail(f"/r{i}", Reply(302, headers={"Location": f"/r{i + 1}"}))
    fake_site.fail("/r4", Reply(302, headers={"Location": "/about"}))
    with pytest.raises(FetchRefused, match="more than 2"):
        fetch(fake_site, "/r1", site_client, replace(LOCAL_POLICY, max_redirects=2))
    assert [fake_site.hits(f"/r{i}") for i in range(1, 5)] == [1, 1, 1, 0]
    assert fake_site.hits("/about") == 0


def test_redirect_loop_is_refused(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/a", Reply(302, headers={"Location": "/b"}))
    fake_site.fail("/b", Reply(302, headers={"Location": "/a"}))
    with pytest.raises(FetchRefused, match="loop"):
        fetch(fake_site, "/a", site_client)


def test_redirect_to_cloud_metadata_is_refused_before_connecting(
    fake_site: FakeSite, site_client: httpx.Client
) -> None:
    fake_site.fail("/go", Reply(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}))
    with pytest.raises(UnsafeUrl, match="redirected to http://169.254.169.254"):
        fetch(fake_site, "/go", site_client)


@pytest.mark.parametrize(
    "target", ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "http://user:pw@example.com/"]
)
def test_redirect_to_a_non_web_address_is_refused(fake_site: FakeSite, site_client: httpx.Client, target: str) -> None:
    fake_site.fail("/go", Reply(302, headers={"Location": target}))
    with pytest.raises(FetchRefused, match="redirected"):
        fetch(fake_site, "/go", site_client)


def test_credentials_are_dropped_when_a_redirect_changes_origin(
    fake_site: FakeSite, other: OtherSite, site_client: httpx.Client
) -> None:
    site_client.headers["Authorization"] = "Bearer secret"
    site_client.headers["Cookie"] = "session=abc"
    fake_site.fail("/same", Reply(302, headers={"Location": "/away"}))
    fake_site.fail("/away", Reply(302, headers={"Location": other.url + "/landing"}))
    page = fetch(fake_site, "/same", site_client)
    assert page.url == other.url + "/landing"
    same_origin = [r.headers for r in fake_site.requests]
    assert all(h.get("authorization") == "Bearer secret" and h.get("cookie") == "session=abc" for h in same_origin)
    landing = other.requests[-1].headers
    assert "authorization" not in landing and "cookie" not in landing
    assert landing["user-agent"].startswith("InterviewPrepBot")


# --- pinning: the address checked is the address connected to ------------------------------------


def test_static_check_refuses_loopback_without_allow_private(fake_site: FakeSite) -> None:
    with make_site_client(FetchPolicy()) as client, pytest.raises(UnsafeUrl):
        fetch_html(fake_site.url + "/", client, FetchPolicy(), deadline=soon())
    assert fake_site.requests == []


def test_transport_resolves_and_refuses_a_name_that_points_at_loopback(fake_site: FakeSite) -> None:
    # The static check has nothing against a name; the pinned transport looks it up and refuses.
    with make_site_client(FetchPolicy()) as client, pytest.raises(UnsafeUrl, match="localhost .127.0.0.1."):
        client.get(f"http://localhost:{fake_site.port}/")
    assert fake_site.requests == []


def fake_dns(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """Answer getaddrinfo for these names; return the list of names asked, in order."""
    real = socket.getaddrinfo
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in answers[host]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_transport_refuses_a_public_looking_name_that_resolves_privately(
    monkeypatch: pytest.MonkeyPatch, fake_site: FakeSite
) -> None:
    fake_dns(monkeypatch, {"acme-rebind.com": ["93.184.216.34", "127.0.0.1"]})
    with make_site_client(FetchPolicy()) as client, pytest.raises(UnsafeUrl, match="127.0.0.1"):
        client.get(f"http://acme-rebind.com:{fake_site.port}/")
    assert fake_site.requests == []


def test_transport_connects_to_the_address_it_resolved_and_keeps_the_host_name(
    monkeypatch: pytest.MonkeyPatch, fake_site: FakeSite, site_client: httpx.Client
) -> None:
    asked = fake_dns(monkeypatch, {"www.acme-robotics.com": ["127.0.0.1"]})
    page = fetch_html(f"http://www.acme-robotics.com:{fake_site.port}/", site_client, LOCAL_POLICY, deadline=soon())
    assert "Acme Robotics" in page.html
    assert asked == ["www.acme-robotics.com"]  # one lookup, then the connection goes to its answer
    assert fake_site.requests[-1].headers["host"] == f"www.acme-robotics.com:{fake_site.port}"


# --- size bounds ---------------------------------------------------------------------------------


class CountingBody:
    """A 100 MB body produced lazily, counting what the server actually handed to the socket."""

    def __init__(self, total: int = 100_000_000, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.produced = total, chunk, 0

    def __iter__(self) -> Iterator[bytes]:
        while self.produced < self.total:
            self.produced += self.chunk
            yield b"a" * self.chunk

    def settled(self) -> int:
        """`produced` once the server has stopped writing (the client closed its socket)."""
        last = -1
        for _ in range(40):
            if self.produced == last:
                break
            last = self.produced
            time.sleep(0.05)
        return self.produced


@pytest.mark.parametrize("declared", [True, False])
def test_a_100_mb_page_is_refused_after_reading_about_the_cap(
    fake_site: FakeSite, site_client: httpx.Client, declared: bool
) -> None:
    body = CountingBody()
    headers = {"Content-Type": "text/html"} | ({"Content-Length": str(body.total)} if declared else {})
    fake_site.fail("/huge", Reply(200, body, headers))
    with pytest.raises(FetchRefused, match="larger than 1 MB"):
        fetch(fake_site, "/huge", site_client, SMALL)
    assert body.settled() < 20_000_000  # the cap plus socket buffers, not 100 MB


def gzip_bomb(inflated_bytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * 1_000_000
    return b"".join([packer.compress(block) for _ in range(inflated_bytes // len(block))] + [packer.flush()])


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(100_000_000)


def test_a_gzip_bomb_is_refused_without_inflating_it(
    fake_site: FakeSite, site_client: httpx.Client, bomb: bytes
) -> None:
    assert len(bomb) < SMALL.max_bytes  # small on the wire: only the decompressed cap can stop it
    fake_site.fail("/bomb", Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(FetchRefused, match="unpacks to more than 1 MB"):
            fetch(fake_site, "/bomb", site_client, SMALL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000  # inflating it all would take 100 MB


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send it
        ("gzip", lambda data: gzip.compress(data[:10]) + gzip.compress(data[10:])),  # two members
    ],
)
def test_compressed_pages_are_decoded(fake_site: FakeSite, site_client: httpx.Client, encoding: str, pack) -> None:
    text = "<html><body><p>Compressed café</p></body></html>"
    fake_site.fail(
        "/z",
        Reply(200, pack(text.encode()), {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": encoding}),
    )
    assert fetch(fake_site, "/z", site_client).html == text


def test_unknown_content_encoding_is_refused(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/br", Reply(200, b"\x0b\x02\x80hi\x03", {"Content-Type": "text/html", "Content-Encoding": "br"}))
    with pytest.raises(FetchRefused, match="compression"):
        fetch(fake_site, "/br", site_client)


@pytest.mark.parametrize("content_type", ["application/pdf", "image/png", "application/json", "text/plain", ""])
def test_non_html_is_refused_before_the_body_is_read(
    fake_site: FakeSite, site_client: httpx.Client, content_type: str
) -> None:
    body = CountingBody(total=10_000_000)
    fake_site.fail("/file", Reply(200, body, {"Content-Type": content_type} if content_type else {}))
    with pytest.raises(FetchRefused, match="not a web page"):
        fetch(fake_site, "/file", site_client)
    assert body.settled() < 10_000_000


def test_xhtml_is_accepted(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/x", html_reply(b"<html><body>xhtml</body></html>", "application/xhtml+xml"))
    assert "xhtml" in fetch(fake_site, "/x", site_client).html


# --- time bounds ---------------------------------------------------------------------------------


class Trickle:
    """`<p>` then `n` one-byte chunks (the server sleeps 0.2 s after each), counting those handed out."""

    def __init__(self, n: int = 100) -> None:
        self.total = n + 1
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in [b"<p>"] + [b"a"] * (self.total - 1):
            self.produced += 1
            yield chunk

    def reply(self) -> Reply:
        return Reply(200, self, {"Content-Type": "text/html"}, chunk_delay_s=0.2)


# No wall-clock assertions here (timing claims belong in bench/): each test checks what only the
# time-limit path produces, its own error and message, and how far the server got when it stopped.


def test_a_trickling_server_is_stopped_by_the_deadline(fake_site: FakeSite, site_client: httpx.Client) -> None:
    body = Trickle()  # 20 s of body
    fake_site.fail("/slow", body.reply())
    with pytest.raises(StepTimeout, match="ran out of time"):
        fetch(fake_site, "/slow", site_client, seconds=1.0)
    # Some chunks were read before the 1 s deadline struck (it was not refused up front), and the
    # client gave up long before the last one instead of waiting for the end of the body.
    assert 2 <= body.produced < body.total


def test_a_trickling_server_is_stopped_by_the_page_time_limit(fake_site: FakeSite, site_client: httpx.Client) -> None:
    body = Trickle()
    fake_site.fail("/slow", body.reply())
    with pytest.raises(NetworkError, match="did not finish loading within 1 seconds"):  # the page limit's message
        fetch(fake_site, "/slow", site_client, replace(LOCAL_POLICY, page_timeout_s=1.0), seconds=30)
    assert 2 <= body.produced < body.total  # stopped by the 1 s page limit, well before the 30 s deadline


def test_a_server_that_never_answers_is_stopped_by_the_deadline(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/silent", html_reply(b"<p>late</p>", delay_s=2.5))
    with pytest.raises(StepTimeout) as caught:
        fetch(fake_site, "/silent", site_client, seconds=0.8)
    assert fake_site.hits("/silent") == 1
    # A socket read timed out while the client was still waiting for the status line: had it waited
    # for the 2.5 s answer, the body's own deadline check (not a read timeout) would have fired.
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)


def test_a_deadline_already_passed_sends_nothing(fake_site: FakeSite, site_client: httpx.Client) -> None:
    with pytest.raises(StepTimeout):
        fetch_html(fake_site.url + "/", site_client, LOCAL_POLICY, deadline=time.monotonic() - 1)
    assert fake_site.requests == []


# --- network errors and status codes -------------------------------------------------------------


def test_a_reset_mid_body_is_a_network_error(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/reset", html_reply(b"<p>" + b"x" * 100_000 + b"</p>", reset_after_bytes=1_000))
    with pytest.raises(NetworkError, match="could not be reached"):
        fetch(fake_site, "/reset", site_client)


def test_a_closed_port_is_a_network_error(site_client: httpx.Client) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(NetworkError):
        fetch_html(f"http://127.0.0.1:{port}/", site_client, LOCAL_POLICY, deadline=soon())


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (503, "7", 7.0),
        (429, "3600", 3600.0),  # passed on uncapped: the worker decides how long it waits
        (502, None, None),
        (500, "soon", None),
        (504, "-5", None),  # negative: ignored
    ],
)
def test_busy_answers_are_transient_with_retry_after(
    fake_site: FakeSite, site_client: httpx.Client, status: int, retry_after: str | None, expected: float | None
) -> None:
    fake_site.fail("/busy", Reply(status, b"busy", {"Retry-After": retry_after} if retry_after else {}))
    with pytest.raises(ServiceUnavailable) as caught:
        fetch(fake_site, "/busy", site_client)
    assert caught.value.retry_after == expected
    assert str(status) in caught.value.message


def test_retry_after_as_an_http_date(fake_site: FakeSite, site_client: httpx.Client) -> None:
    when = email.utils.formatdate(time.time() + 12, usegmt=True)
    fake_site.fail("/busy", Reply(503, b"", {"Retry-After": when}))
    with pytest.raises(ServiceUnavailable) as caught:
        fetch(fake_site, "/busy", site_client)
    assert caught.value.retry_after is not None and 9 <= caught.value.retry_after <= 12


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFound), (410, NotFound), (403, FetchRefused), (401, FetchRefused), (501, FetchRefused)],
)
def test_status_codes_map_to_the_error_tree(
    fake_site: FakeSite, site_client: httpx.Client, status: int, error: type[Exception]
) -> None:
    fake_site.fail("/x", Reply(status, b"no"))
    with pytest.raises(error, match=str(status)):
        fetch(fake_site, "/x", site_client)


# --- character sets ------------------------------------------------------------------------------

FRENCH = "Café – naïve “quotes”"


@pytest.mark.parametrize(
    ("content_type", "head"),
    [
        ("text/html; charset=windows-1252", ""),
        ("text/html; charset=ISO-8859-1", ""),  # browsers read latin-1 labels as windows-1252
        ("text/html", '<meta charset="windows-1252">'),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'),
    ],
)
def test_non_utf8_pages_are_decoded(
    fake_site: FakeSite, site_client: httpx.Client, content_type: str, head: str
) -> None:
    body = f"<html><head>{head}</head><body><p>{FRENCH}</p></body></html>".encode("cp1252")
    fake_site.fail("/fr", html_reply(body, content_type))
    assert FRENCH in fetch(fake_site, "/fr", site_client).html


def test_header_charset_wins_over_meta(fake_site: FakeSite, site_client: httpx.Client) -> None:
    body = f'<meta charset="windows-1252"><p>{FRENCH}</p>'.encode()
    fake_site.fail("/fr", html_reply(body, "text/html; charset=utf-8"))
    assert FRENCH in fetch(fake_site, "/fr", site_client).html


@pytest.mark.parametrize("label", ["no-such-charset", "base64", "undefined"])
def test_unknown_or_bogus_charsets_fall_back_to_utf8_with_replacement(
    fake_site: FakeSite, site_client: httpx.Client, label: str
) -> None:
    fake_site.fail("/odd", html_reply(b"<p>ok \xff caf\xc3\xa9</p>", f"text/html; charset={label}"))
    assert fetch(fake_site, "/odd", site_client).html == "<p>ok \ufffd café</p>"


# --- robots.txt ----------------------------------------------------------------------------------


def test_robots_disallow_and_allow(fake_site: FakeSite, site_client: httpx.Client) -> None:
    assert not robots_allows(fake_site.url + "/private/plans", site_client, LOCAL_POLICY, deadline=soon())
    assert robots_allows(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=soon())
    assert fake_site.hits("/robots.txt") == 2


def test_robots_rules_for_our_bot_by_name(fake_site: FakeSite, site_client: httpx.Client) -> None:
    rules = b"User-agent: InterviewPrepBot\nDisallow: /\n\nUser-agent: *\nAllow: /\n"
    fake_site.fail("/robots.txt", Reply(200, rules, {"Content-Type": "text/plain"}))
    assert not robots_allows(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=soon())


@pytest.mark.parametrize("status", [404, 410, 403, 500, 503])
def test_missing_or_failing_robots_allows(fake_site: FakeSite, site_client: httpx.Client, status: int) -> None:
    fake_site.fail("/robots.txt", Reply(status, b"User-agent: *\nDisallow: /\n"))
    assert robots_allows(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=soon())


def test_robots_goes_through_the_same_guard(fake_site: FakeSite, site_client: httpx.Client) -> None:
    fake_site.fail("/robots.txt", Reply(302, headers={"Location": "http://169.254.169.254/robots.txt"}))
    with pytest.raises(UnsafeUrl):
        robots_allows(fake_site.url + "/about", site_client, LOCAL_POLICY, deadline=soon())


def test_the_site_client_never_stores_cookies(fake_site: FakeSite, site_client: httpx.Client) -> None:
    # One client serves every job: a cookie one site sets must not follow a later job there.
    fake_site.fail(
        "/", replace(fake_site.page("/"), headers={"Content-Type": "text/html", "Set-Cookie": "id=1; Path=/"})
    )
    fetch(fake_site, "/", site_client)
    fetch(fake_site, "/about", site_client)
    assert len(site_client.cookies) == 0
    assert "cookie" not in fake_site.requests[-1].headers
