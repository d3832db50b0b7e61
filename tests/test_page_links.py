"""Untrusted text on the pages stays text: a URL or an e-mail address in a company name, a page's
text quoted by the briefing or an error note is no link, and Streamlit's directives in it
(`:red[…]`, `:material/…:`, `:smile:`) are no colour, icon or emoji. Checked in the Markdown the
page sends (AppTest) and in what Chromium renders of it."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from core.request import ResearchRequest
from harness.fakes.server import Reply
from tests.helpers import open_page
from worker.runner import get_runner

WAIT_S = 30
SENTENCE = "We answer at evil@attacker.example or www.evil.example about :red[all of this] :material/home: :smile: now."
HOSTILE_HOME = f"""<!doctype html><html><head><title>Acme</title></head><body><h1>Acme</h1>
<p>{SENTENCE} Acme Robotics builds warehouse robots in Python.</p></body></html>""".encode()
NAME = "Evil :red[Corp] :material/home: evil@attacker.example"
UNREACHABLE = "http://127.0.0.1:1/evil"  # the step note and the job's message quote it
# What Streamlit's Markdown would turn into a link, an icon, a colour or an emoji, once backslash
# escapes are resolved; our own links' targets and tooltips (`](<url> "quote")`) are taken out first.
LIVE = re.compile(r"https?://|(?<![\w.])www\.|[\w.+-]@[\w-]|:material/home:|:red\[|:smile:", re.I)
OWN_TARGET = re.compile(r'\]\(<[^>]*>(?:\s+"(?:[^"\\]|\\.)*")?\)')


def _submit(api: str, name: str, url: str) -> str:
    answer = httpx.post(f"{api}/api/research-direct", json={"companyName": name, "companyUrl": url}, timeout=10)
    assert answer.status_code == 202, answer.text
    return answer.json()["jobId"]


def _sources_of_page(job_id: str) -> list[str]:
    """Every Markdown text the job page sends: titles, alerts, captions, the steps, the briefing."""
    at = open_page("pages/job.py", timeout_s=WAIT_S, job=job_id)
    assert not at.exception
    kinds = ("title", "markdown", "caption", "error", "warning", "success", "subheader")
    return [element.value for kind in kinds for element in at.get(kind)]


def test_untrusted_text_sends_no_live_markdown(app_env, fake_site):
    fake_site.fail("/", Reply(200, HOSTILE_HOME, {"Content-Type": "text/html"}))
    runner = get_runner()
    done = runner.wait(runner.submit(ResearchRequest(company_name=NAME, company_url=fake_site.url))[0].id, WAIT_S)
    failed = runner.wait(runner.submit(ResearchRequest(company_name="Acme", company_url=UNREACHABLE))[0].id, WAIT_S)
    assert done.status.value == "completed" and failed.status.value == "failed"

    for job_id in (done.id, failed.id):
        texts = _sources_of_page(job_id)
        assert texts
        for text in texts:
            bare = OWN_TARGET.sub("]()", text).replace("\\", "")
            assert not LIVE.search(bare), bare
    assert any("attacker" in text for text in _sources_of_page(done.id))  # the quote is on the page


@pytest.mark.browser
def test_chromium_renders_untrusted_text_as_text(served_app, fake_site, page: Page):
    fake_site.fail("/", Reply(200, HOSTILE_HOME, {"Content-Type": "text/html"}))
    briefed = _submit(served_app.url, NAME, fake_site.url)
    failed = _submit(served_app.url, "Acme", UNREACHABLE)

    for job_id, ready in ((briefed, "Download Markdown"), (failed, "Retry")):
        page.goto(f"{served_app.url}/job?job={job_id}")
        expect(page.get_by_role("button", name=ready)).to_be_visible(timeout=WAIT_S * 1000)
        page.get_by_text("Steps", exact=True).click()
        shown = page.evaluate("document.body.innerText.replaceAll('\\u2060', '')")
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(link => link.href)")
        # The app's own pages and the job's one source (the fake site) are the only links.
        assert all(href.startswith((served_app.url, fake_site.url)) for href in hrefs), hrefs
        expect(page.locator(".stMarkdownColoredText")).to_have_count(0)
        expect(page.locator('[aria-label="home icon"]')).to_have_count(0)
        assert "😄" not in shown
        if job_id == briefed:
            # The briefing quotes the page (its bare link to www.evil.example dropped, as every disallowed link is).
            assert NAME in shown
            assert "We answer at evil@attacker.example or about :red[all of this] :material/home:" in shown
        else:
            assert UNREACHABLE in shown
