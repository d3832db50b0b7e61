"""robots.txt as RFC 9309 reads it (protego), fetched from the fake site through the site client."""

from __future__ import annotations

import time

import httpx
import pytest

from harness.fakes.server import Reply
from harness.fakes.site import FakeSite
from pipeline.fetch import USER_AGENT, robots_rules
from tests.helpers import LOCAL_POLICY

# RFC 9309, section 5.1: the example file.
RFC_EXAMPLE = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
"""


def _rules(site: FakeSite, client: httpx.Client, text: str):
    site.fail("/robots.txt", Reply(200, text.encode(), {"Content-Type": "text/plain"}))
    return robots_rules(site.url + "/", client, LOCAL_POLICY, deadline=time.monotonic() + 5)


def test_longest_match_wins_over_order(fake_site: FakeSite, site_client: httpx.Client) -> None:
    rules = _rules(fake_site, site_client, "User-agent: *\nDisallow: /\nAllow: /about\n")
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/about")
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/about/team")
    assert not rules.can_fetch(USER_AGENT, fake_site.url + "/careers")
    assert not rules.can_fetch(USER_AGENT, fake_site.url + "/")


def test_wildcard_and_end_anchor(fake_site: FakeSite, site_client: httpx.Client) -> None:
    rules = _rules(fake_site, site_client, "User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp*/drafts\n")
    assert not rules.can_fetch(USER_AGENT, fake_site.url + "/files/report.pdf")
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/files/report.pdf.html")  # `$` anchors the end
    assert not rules.can_fetch(USER_AGENT, fake_site.url + "/tmp-2024/drafts/a")
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/tmp/published")


def test_equivalent_allow_and_disallow_prefer_allow(fake_site: FakeSite, site_client: httpx.Client) -> None:
    rules = _rules(fake_site, site_client, "User-agent: *\nDisallow: /page\nAllow: /page\n")
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/page")


@pytest.mark.parametrize(
    ("agent", "path", "allowed"),
    [
        ("foobot", "/example/page.html", True),
        ("foobot", "/example/allowed.gif", True),
        ("foobot", "/publications/", False),
        ("barbot", "/example/page.html", False),
        ("bazbot", "/example/page.html", False),
        ("barbot", "/example/other.html", True),
        ("quxbot", "/example/page.html", True),  # an empty group allows everything
        (USER_AGENT, "/example/page.html", False),  # no group names us: `*` applies
        (USER_AGENT, "/publications/", True),
        (USER_AGENT, "/images/logo.gif", False),
    ],
)
def test_rfc_9309_example(fake_site: FakeSite, site_client: httpx.Client, agent: str, path: str, allowed: bool) -> None:
    rules = _rules(fake_site, site_client, RFC_EXAMPLE)
    assert rules.can_fetch(agent, fake_site.url + path) is allowed


def test_our_group_is_found_by_product_token(fake_site: FakeSite, site_client: httpx.Client) -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: InterviewPrepBot\nAllow: /\nDisallow: /private\n"
    rules = _rules(fake_site, site_client, text)
    assert rules.can_fetch(USER_AGENT, fake_site.url + "/about")
    assert not rules.can_fetch(USER_AGENT, fake_site.url + "/private/x")
    assert not rules.can_fetch("otherbot", fake_site.url + "/about")
