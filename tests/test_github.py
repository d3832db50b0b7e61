"""search-github against a fake GitHub API on localhost: finding the org, reading repos, failing well."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from core.errors import NetworkError, PermanentError, ServiceUnavailable
from harness.fakes.github_api import ACME_REPOS, FakeGitHub, repo
from harness.fakes.server import Reply
from pipeline.github import is_noise_topic, make_github_client, search_github
from tests.helpers import TEST_TOKEN

ACME = "/orgs/acme-robotics"
ACME_REPOS_PATH = "/orgs/acme-robotics/repos"


def in_s(seconds: float = 5.0) -> float:
    """A deadline `seconds` from now."""
    return time.monotonic() + seconds


# --- finding the organisation ----------------------------------------------------------------


def test_finds_the_organisation_by_name(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    data = search_github("Acme Robotics", github_client, deadline=in_s())

    assert data.organization == "acme-robotics"
    assert data.homepage == "https://acme.example"
    assert data.warning is None
    assert fake_github.paths() == [ACME, ACME_REPOS_PATH]  # the first slug hit: no search needed


def test_legal_suffix_is_ignored_and_blog_without_scheme_becomes_https(
    fake_github: FakeGitHub, github_client: httpx.Client
) -> None:
    fake_github.add_org("nimbus", "Nimbus", blog="nimbus.example", repos=[repo("cloud", language="Go")])

    data = search_github("Nimbus, Inc.", github_client, deadline=in_s())

    assert data.organization == "nimbus"
    assert data.homepage == "https://nimbus.example"


def test_domain_picks_the_right_org_when_the_name_is_ambiguous(
    fake_github: FakeGitHub, github_client: httpx.Client
) -> None:
    fake_github.add_org("acme", "Acme Corp", blog="https://acme-corp.example", repos=[repo("anvils")])
    acme_robotics = fake_github.orgs["acme-robotics"]
    fake_github.remove_org("acme-robotics")  # re-added last, so search lists the other Acme first
    fake_github.add_org("acme-robotics", acme_robotics["name"], acme_robotics["blog"], ACME_REPOS)

    by_name = search_github("Acme", github_client, deadline=in_s())
    by_domain = search_github("Acme", github_client, domain="www.acme.example", deadline=in_s())

    assert by_name.organization == "acme"  # "acme" is the whole name: the best guess without a site
    assert by_domain.organization == "acme-robotics"
    assert by_domain.homepage == "https://acme.example"


def test_a_blog_on_a_subdomain_matches_the_site(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.add_org("orbital", "Orbital", blog="https://blog.orbital.example/", repos=[repo("x")])

    data = search_github("Orbital", github_client, domain="orbital.example", deadline=in_s())

    assert data.organization == "orbital"


def test_found_by_display_name_through_search(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.add_org("wdgt", "Widget Works", blog="", repos=[repo("gears", language="Rust", stars=3)])

    data = search_github("Widget Works", github_client, deadline=in_s())

    assert data.organization == "wdgt"
    assert data.homepage is None
    assert fake_github.hits("/search/users") == 1
    assert fake_github.requests[-3].query["q"] == ["Widget Works type:org"]


def test_a_first_word_org_with_another_name_is_not_taken(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.add_org("acme", "Acme Corp", blog="https://acme-corp.example", repos=[repo("anvils")])

    data = search_github("Acme Dynamics", github_client, deadline=in_s())

    assert data.organization is None
    assert fake_github.hits("/orgs/acme") == 1  # looked at, then rejected: its name is another company's


def test_org_not_found_gives_a_warning_and_no_data(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    data = search_github("Zyxw Quantum", github_client, domain="zyxw.example", deadline=in_s())

    assert data.organization is None
    assert data.repositories == [] and data.tech_stack == []
    assert data.warning == "No GitHub organisation found for Zyxw Quantum with the website zyxw.example."
    assert "/orgs/zyxw-quantum" in fake_github.paths()
    assert fake_github.hits("/search/users") == 1


def test_low_rate_limit_skips_optional_requests(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.set_remaining(3)  # the first lookup leaves 2

    data = search_github("Zyxw Quantum", github_client, deadline=in_s())

    assert fake_github.paths() == ["/orgs/zyxw-quantum"]  # no more slugs, no search
    assert data.organization is None
    assert "rate limit" in (data.warning or "")


def test_low_rate_limit_still_reads_the_found_orgs_repos(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.set_remaining(2)

    data = search_github("Acme Robotics", github_client, deadline=in_s())

    assert data.organization == "acme-robotics"
    assert len(data.repositories) == 6


# --- reading the repositories ----------------------------------------------------------------


def test_forks_and_archived_repos_are_dropped(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    data = search_github("Acme Robotics", github_client, deadline=in_s(), max_repos=100)

    names = {r.name for r in data.repositories}
    assert "linux" not in names and "old-planner" not in names
    assert names == {"robot-os", "motion-planner", "fleet-dashboard", "firmware", "simulator", "acme-cli", "handbook"}


def test_takes_the_most_starred_repos(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    data = search_github("Acme Robotics", github_client, deadline=in_s(), max_repos=3)

    assert [(r.name, r.stars) for r in data.repositories][:3] == [
        ("robot-os", 900),
        ("motion-planner", 500),
        ("fleet-dashboard", 300),
    ]
    top = data.repositories[0]
    assert top.url == "https://github.com/acme-robotics/robot-os"
    assert top.language == "Python"
    assert top.description == "The operating system of our robots."
    assert top.topics == ["robotics", "ros", "python"]
    listing = fake_github.requests[-1]
    assert listing.query == {"type": ["public"], "per_page": ["100"], "sort": ["pushed"]}


def test_tech_stack_is_languages_then_topics_by_stars(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    data = search_github("Acme Robotics", github_client, deadline=in_s())

    # Python (901 + 121) beats C++ (501); the "python" topic repeats a language and
    # "hacktoberfest" says nothing, so both are left out; equal weights go alphabetically.
    assert data.tech_stack == [
        "Python", "C++", "TypeScript", "C", "Go",
        "robotics", "ros", "motion-planning", "dashboard", "react", "embedded", "simulation", "cli",
    ]  # fmt: skip


def test_every_stack_item_is_backed_by_a_listed_repository(
    fake_github: FakeGitHub, github_client: httpx.Client
) -> None:
    data = search_github("Acme Robotics", github_client, deadline=in_s(), max_repos=3)

    # Beyond the three most starred: firmware (C, embedded), simulator (simulation), acme-cli (Go, cli).
    assert [r.name for r in data.repositories[3:]] == ["firmware", "acme-cli", "simulator"]
    for term in data.tech_stack:
        assert any(term in (r.language, *r.topics) for r in data.repositories), term


@pytest.mark.parametrize(
    "topic",
    ["hacktoberfest", "hacktoberfest2025", "Hacktoberfest-2031", "awesome", "awesome-python", "python-awesome",
     "good-first-issue", "mit-license", "open-source", "first-timers-only", "gsoc-2024"],
)  # fmt: skip
def test_noise_topics_are_filtered_whatever_the_year(topic: str) -> None:
    assert is_noise_topic(topic)


@pytest.mark.parametrize("topic", ["python", "kubernetes", "machine-learning", "es2015x", "web3", "c99x"])
def test_real_topics_are_kept(topic: str) -> None:
    assert not is_noise_topic(topic)


def test_tech_stack_merges_aliases_and_is_capped(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    topics = ["golang"] + [f"topic-{i:02}" for i in range(20)]
    fake_github.add_org("gopher", "Gopher", repos=[repo("server", language="Go", stars=10, topics=topics)])

    data = search_github("Gopher", github_client, deadline=in_s())

    assert data.tech_stack[0] == "Go"
    assert "golang" not in data.tech_stack
    assert len(data.tech_stack) == 15
    assert data.tech_stack[1:3] == ["topic-00", "topic-01"]


# --- the client ------------------------------------------------------------------------------


def test_token_is_sent_as_bearer(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    search_github("Acme Robotics", github_client, deadline=in_s())

    assert fake_github.authorizations == [f"Bearer {TEST_TOKEN}"] * 2
    first = fake_github.requests[0].headers
    assert first["accept"] == "application/vnd.github+json"
    assert first["x-github-api-version"] == "2022-11-28"
    assert "interview-prep-tool" in first["user-agent"]


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_authorization_header_without_a_token(fake_github: FakeGitHub, token: str | None) -> None:
    with make_github_client(fake_github.url, token) as client:
        data = search_github("Acme Robotics", client, deadline=in_s())

    assert data.organization == "acme-robotics"
    assert fake_github.authorizations == [None, None]


# --- failures --------------------------------------------------------------------------------


def test_primary_rate_limit_waits_until_the_reset(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.primary_rate_limit(ACME_REPOS_PATH, reset_in_s=30)

    with pytest.raises(ServiceUnavailable, match="rate limit is exhausted") as caught:
        search_github("Acme Robotics", github_client, deadline=in_s())

    assert 27 <= caught.value.retry_after <= 30


def test_used_up_limit_sends_nothing_and_says_until_when(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.set_remaining(0)  # the fake's own limit: resets in an hour

    data = search_github("Acme Robotics", github_client, deadline=in_s())

    reset = datetime.fromtimestamp(fake_github.buckets["core"].reset_at, UTC).strftime("%H:%M UTC")
    assert data.organization is None
    assert data.warning == f"GitHub's hourly limit is used up until {reset}."  # a token is set: no advice
    assert fake_github.paths() == []  # /rate_limit (free) said 0: no request is spent on a sure 403


@pytest.mark.parametrize("seconds", [7, 3600])
def test_secondary_rate_limit_uses_retry_after(
    fake_github: FakeGitHub, github_client: httpx.Client, seconds: int
) -> None:
    fake_github.secondary_rate_limit(ACME, retry_after_s=seconds)

    with pytest.raises(ServiceUnavailable, match="secondary rate limit") as caught:
        search_github("Acme Robotics", github_client, deadline=in_s())

    assert caught.value.retry_after == seconds  # uncapped


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake_github: FakeGitHub, github_client: httpx.Client, status: int) -> None:
    fake_github.fail(ACME_REPOS_PATH, Reply.json({"message": "Server Error"}, status))

    with pytest.raises(ServiceUnavailable, match=f"HTTP {status}") as caught:
        search_github("Acme Robotics", github_client, deadline=in_s())

    assert caught.value.retry_after is None


def test_server_error_retry_after_is_read_by_the_shared_parser(
    fake_github: FakeGitHub, github_client: httpx.Client
) -> None:
    fake_github.fail(ACME, Reply.json({"message": "Busy"}, 503, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))

    with pytest.raises(ServiceUnavailable) as caught:
        search_github("Acme Robotics", github_client, deadline=in_s())

    assert caught.value.retry_after == 0.0  # an HTTP date already past: try again now


def test_invalid_json_is_transient(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.fail(ACME, Reply(200, b"<html>proxy error</html>", {"Content-Type": "text/html"}))

    with pytest.raises(ServiceUnavailable, match="not valid JSON"):
        search_github("Acme Robotics", github_client, deadline=in_s())


def test_rejected_token_is_permanent_and_not_repeated(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.fail(ACME, Reply.json({"message": "Bad credentials"}, 401))

    with pytest.raises(PermanentError, match="GitHub token was rejected") as caught:
        search_github("Acme Robotics", github_client, deadline=in_s())

    assert not isinstance(caught.value, ServiceUnavailable | NetworkError)
    assert TEST_TOKEN not in str(caught.value)


def test_closed_port_is_a_network_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed when the block ends: nothing listens there

    with make_github_client(f"http://127.0.0.1:{port}", TEST_TOKEN) as client:
        with pytest.raises(NetworkError, match="could not be reached") as caught:
            search_github("Acme Robotics", client, deadline=in_s())

    assert TEST_TOKEN not in str(caught.value)


def test_a_slow_reply_is_cut_off_at_the_deadline(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    # The reply comes after 2 s, well inside REQUEST_TIMEOUT_S (10 s): a client that ignored the
    # 0.3 s deadline would get it and carry on, so this error can only come from the deadline.
    fake_github.fail(ACME, Reply(200, b"{}", {"Content-Type": "application/json"}, delay_s=2.0))

    with pytest.raises(NetworkError, match="did not answer in time") as caught:
        search_github("Acme Robotics", github_client, deadline=in_s(0.3))

    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)  # waiting for the answer, not connecting
    assert fake_github.paths() == [ACME]  # and the step stopped there


def test_a_passed_deadline_sends_nothing(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    with pytest.raises(NetworkError, match="ran out of time"):
        search_github("Acme Robotics", github_client, deadline=time.monotonic() - 0.1)

    assert fake_github.requests == []


def test_a_server_without_rate_limits_is_probed_once(fake_github: FakeGitHub, github_client: httpx.Client) -> None:
    fake_github.fail("/rate_limit", Reply.json({"message": "Rate limiting is not enabled."}, 404))
    for header in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"):
        fake_github.strip_headers.add(header)

    data = search_github("Zyxw Quantum", github_client, deadline=in_s())

    assert data.organization is None and data.warning and "rate limit" not in data.warning
    assert fake_github.hits("/rate_limit") == 1
    assert len(fake_github.paths()) >= 3


def test_waiting_for_another_searchs_probe_ends_at_the_deadline(
    fake_github: FakeGitHub, github_client: httpx.Client
) -> None:
    fake_github.fail("/rate_limit", replace(Reply.json({"resources": {}}), delay_s=3))  # a slow probe, then no limits
    with ThreadPoolExecutor(max_workers=1) as pool:
        probing = pool.submit(search_github, "Acme Robotics", github_client, deadline=in_s(20))
        while fake_github.hits("/rate_limit") == 0:  # the first search is probing
            time.sleep(0.01)

        with pytest.raises(NetworkError, match="waiting for GitHub's rate limits"):
            search_github("Acme Robotics", github_client, deadline=in_s(0.3))

        assert fake_github.hits("/rate_limit") == 1
        assert probing.result().organization == "acme-robotics"
