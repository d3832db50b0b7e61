"""The candidate's journey in a real Chromium, against `streamlit run app.py` on the loopback fakes.

Each test drives the served app as a person would: fill the form, watch the job page update on
its own, read and download the briefing, find the job in History, retry a failure, cancel a run.
Every wait is Playwright's auto-waiting `expect()`; nothing asserts on timing. Screenshots of each
page go to the git-ignored test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.steps import SCRAPE, STEPS
from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.job_boards import GREENHOUSE_JOB_ID, GREENHOUSE_TOKEN
from harness.fakes.server import Reply
from harness.fakes.wiring import fake_services_env
from harness.live_app import app_environment, serve_app
from pipeline.markdown import defuse_autolinks
from settings import PROJECT_DIR
from tests.helpers import screenshot

pytestmark = pytest.mark.browser

JOB_TIMEOUT_MS = 60_000  # a whole job, from submit to its final page, milliseconds
MOBILE = {"width": 390, "height": 844}
SECTION_TITLES = [
    "Overview", "Products", "Tech stack", "Salary", "Interview questions", "Preparation tips",
    "Key talking points", "Top challenges", "Culture insights", "Smart questions to ask", "Red flags",
    "Preparation checklist", "Sources",
]  # fmt: skip
JOB_URL = re.compile(r"/job\?job=(\w+)")
HUMAN_DURATION = re.compile(r"took \d+(\.\d)? (ms|s)\b|took \d+ min")
BUSY = Reply(503, b"busy", {"Retry-After": "0"})
OPEN_TRIES = 3  # clicks on a selectbox before its list must have opened
LIST_OPEN_MS = 5_000  # how long one click's list may take to appear, milliseconds
POSTING_URL = f"https://boards.greenhouse.io/{GREENHOUSE_TOKEN}/jobs/{GREENHOUSE_JOB_ID}"

# Records every distinct state of the steps list the page shows, without reloading it: a
# MutationObserver appends "running,succeeded,pending,pending" style keys to window.__stepStates.
WATCH_STEPS = """labels => {
  window.__noReload = true;
  window.__stepStates = [];
  const read = () => {
    const items = [...document.querySelectorAll('[data-testid="stMarkdownContainer"] li')]
      .map(li => li.textContent).filter(text => labels.some(label => text.includes(label)));
    if (items.length !== labels.length) return;
    const key = items.map(text => (text.match(/—\\s*(\\w+)/) || [null, '?'])[1]).join(',');
    const seen = window.__stepStates;
    if (seen[seen.length - 1] !== key) seen.push(key);
  };
  new MutationObserver(read).observe(document.body, {subtree: true, childList: true, characterData: true});
  read();
}"""


def slow_home(fake_site, delay_s: float) -> Reply:
    """The site's home page, answered after `delay_s` seconds."""
    return replace(fake_site.page("/"), delay_s=delay_s)


def submit(page: Page, base_url: str, name: str, url: str = "", role: str = "") -> str:
    """Fill in New research, submit it, and return the id of the job page that opens."""
    page.goto(base_url)
    page.get_by_role("textbox", name="Company name").fill(name)
    page.get_by_role("textbox", name="Website (optional)").fill(url)
    page.get_by_role("textbox", name="Target role (optional)").fill(role)
    page.get_by_role("button", name="Research").click()
    expect(page).to_have_url(JOB_URL)
    return JOB_URL.search(page.url).group(1)


def choose(page: Page, box: Locator, option: str) -> None:
    """Pick `option` in a Streamlit selectbox. A click that lands while the app is still redrawing
    the widget opens nothing, so the click is repeated until the list of options is visible."""
    expect(page.get_by_test_id("stStatusWidget")).to_be_hidden()  # the app's run is over
    listbox = page.get_by_role("listbox")
    for _ in range(OPEN_TRIES):
        box.get_by_role("combobox").click()
        try:
            listbox.wait_for(state="visible", timeout=LIST_OPEN_MS)
            break
        except PlaywrightTimeout:
            continue
    listbox.get_by_role("option", name=option, exact=True).click()
    expect(box.get_by_role("combobox")).to_have_value(option)


def expect_completed(page: Page) -> None:
    """The page ends on a finished briefing."""
    expect(page.get_by_role("button", name="Download Markdown")).to_be_visible(timeout=JOB_TIMEOUT_MS)


def expect_briefing_headings(page: Page) -> None:
    for title in SECTION_TITLES:
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()


def expect_no_error_on_screen(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)


def test_research_journey_from_form_to_history(app_url, context, page, fake_site):
    """Form validation, live progress, the briefing and its download, History and its filter,
    the job's URL in a fresh tab, and the briefing on a 390 px phone screen."""
    page.goto(app_url)
    expect(page.get_by_role("heading", name="Interview Prep")).to_be_visible()
    expect(page.get_by_text("write you a briefing")).to_be_visible()
    expect_no_error_on_screen(page)
    for label in ("Deep mode", "Refresh sources"):  # the last widgets drawn: the picture shows a whole form
        expect(page.get_by_text(label, exact=True)).to_be_visible()
    screenshot(page, "01-new-research")

    page.get_by_role("button", name="Research").click()
    expect(page.get_by_text("Company name is required.")).to_be_visible()
    expect(page).not_to_have_url(JOB_URL)

    fake_site.fail("/", slow_home(fake_site, 3.0))
    page.evaluate(WATCH_STEPS, [step.label for step in STEPS])
    page.get_by_role("textbox", name="Company name").fill("Acme Robotics")
    page.get_by_role("textbox", name="Website (optional)").fill(fake_site.url)
    page.get_by_role("textbox", name="Target role (optional)").fill("Backend Engineer")
    page.get_by_role("button", name="Research").click()
    expect(page).to_have_url(JOB_URL)
    job_id = JOB_URL.search(page.url).group(1)

    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text("Researching Acme Robotics…")
    expect(progress).to_contain_text(re.compile(r"about (\d+ s|\d+ min( \d+ s)?) left"))
    steps = page.get_by_test_id("stMarkdownContainer").filter(has_text=SCRAPE.label)
    expect(steps).to_contain_text(f"{SCRAPE.label} — running")
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    screenshot(page, "02-job-running")

    expect_completed(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("The briefing for Acme Robotics is ready.")
    expect(page.get_by_text(HUMAN_DURATION)).to_be_visible()
    expect_briefing_headings(page)
    page.get_by_text("Steps", exact=True).click()
    for step in STEPS:
        expect(page.get_by_text(f"{step.label} — succeeded")).to_be_visible()
    assert page.evaluate("window.__noReload") is True, "the job page reloaded instead of updating in place"
    states = page.evaluate("window.__stepStates")
    assert len(set(states)) >= 2, f"the steps list never changed on screen: {states}"
    assert any("running" in state for state in states), states
    assert states[-1] == ",".join(["succeeded"] * len(STEPS)), states
    screenshot(page, "03-briefing")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download Markdown").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".md"), download.suggested_filename
    document = Path(download.path()).read_text(encoding="utf-8")
    assert document.startswith("# Interview briefing: Acme Robotics")
    for title in SECTION_TITLES:
        assert f"## {title}" in document, title

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
    expect(page).to_have_url(re.compile(r"/history$"))
    job_link = page.locator(f'a[href*="job={job_id}"]')
    expect(job_link).to_contain_text("Acme Robotics")
    expect(page.get_by_text(re.compile(r"Backend Engineer · completed · .* · \d"))).to_be_visible()
    screenshot(page, "05-history")
    page.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="failed", exact=True).click()
    expect(job_link).to_have_count(0)

    fresh = context.new_page()
    fresh.goto(f"{app_url}/job?job={job_id}")
    expect(fresh.get_by_role("heading", name="Acme Robotics")).to_be_visible()
    expect_completed(fresh)
    expect_briefing_headings(fresh)
    fresh.close()

    phone = context.browser.new_context(viewport=MOBILE, device_scale_factor=1, is_mobile=True, has_touch=True)
    try:
        small = phone.new_page()
        small.goto(f"{app_url}/job?job={job_id}")
        expect_completed(small)
        expect_briefing_headings(small)
        overflow = small.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the briefing scrolls sideways by {overflow} px at 390 px wide"
        screenshot(small, "06-briefing-mobile")
    finally:
        phone.close()


def test_citations_and_the_not_verified_list_on_the_page(app_url, page, fake_site, fake_anthropic):
    draft = FakeAnthropic.draft("Acme Robotics")
    stack = "Our fleet software is written in Python, runs on Kubernetes and keeps its state in PostgreSQL."
    home = "Acme Robotics makes fleets of small sorting robots for e-commerce warehouses."
    draft["overview"] = [{"text": home, "evidence": [{"source": "S1", "quote": home}]}]
    draft["techStack"] = [
        {"text": "Python", "evidence": [{"source": "S1", "quote": stack}]},
        {"text": "Erlang", "evidence": [{"source": "S1", "quote": "Our Erlang cluster never sleeps."}]},  # a lie
    ]
    fake_anthropic.enqueue(draft)

    submit(page, app_url, "Acme Robotics", fake_site.url, "Backend Engineer")
    expect_completed(page)

    marker = page.get_by_role("link", name="[1]").first
    expect(marker).to_be_visible()
    assert marker.get_attribute("title") == home  # the quote, as the marker's tooltip
    assert marker.get_attribute("href").startswith(fake_site.url)
    expect(page.get_by_text("Checked against the sources: 2 of 3 claims verified, 1 not verified.")).to_be_visible()
    collapsed = page.get_by_test_id("stExpander").filter(has_text="Not verified (1)").last
    expect(collapsed).to_be_visible()
    reason = collapsed.get_by_text("The quote is not in S1.")
    expect(reason).to_be_hidden()  # collapsed until the candidate opens it
    collapsed.get_by_text("Not verified (1)").click()
    expect(reason).to_be_visible()
    expect(collapsed.get_by_text("Erlang").first).to_be_visible()
    screenshot(page, "09-briefing-citations")


def test_an_open_role_picked_on_the_form_is_the_posting_with_its_pay(app_url, page, fake_site):
    """Find its open roles opens the posting section on the roles found; the role picked there is
    read through the board's API, becomes the posting source and states the salary."""
    page.goto(app_url)
    page.get_by_role("textbox", name="Company name").fill("Acme Robotics")
    page.get_by_role("textbox", name="Website (optional)").fill(fake_site.url)
    page.get_by_role("button", name="Find its open roles (to pick one as the posting)").click()

    picker = page.get_by_test_id("stSelectbox").filter(has_text="open roles on Greenhouse")
    expect(picker).to_be_visible()  # in sight: the "Job posting" section opened by itself
    expect(picker).to_contain_text("…or one of its 3 open roles on Greenhouse")
    choose(page, picker, "Senior Backend Engineer · Engineering · Lyon")
    page.get_by_role("button", name="Research").click()
    expect(page).to_have_url(JOB_URL)
    expect_completed(page)

    salary = page.get_by_test_id("stMarkdownContainer").filter(has_text="Stated by a source:")
    expect(salary).to_contain_text("Stated by a source: EUR 95,000 – 120,000")
    posting = page.locator(f'a[href="{POSTING_URL}"]')
    expect(posting.first).to_be_visible()
    sources = page.get_by_test_id("stMarkdownContainer").filter(has_text="Company site").filter(has=posting)
    expect(sources).to_contain_text("Job posting")  # the group's heading
    expect(sources.get_by_role("listitem").filter(has=posting).last).to_contain_text("— job posting")
    expect_no_error_on_screen(page)
    screenshot(page, "11-open-role-posting")


def test_failed_job_says_why_and_retry_completes(app_url, page, fake_site, fake_anthropic):
    """The site is down and Claude is overloaded: the page says why; Retry opens a new job that
    completes once the faults are gone."""
    fake_site.fail("/", BUSY, BUSY, BUSY)
    fake_anthropic.enqueue(FakeAnthropic.overloaded(), FakeAnthropic.overloaded())
    failed_id = submit(page, app_url, "Acme Robotics", fake_site.url, "Retry test")

    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("We could not read", timeout=JOB_TIMEOUT_MS)
    # The URL carries an invisible word joiner after "http:", so it is not a link (defuse_autolinks).
    expect(alert).to_contain_text(f"{defuse_autolinks(fake_site.url)}/ is temporarily unavailable (HTTP 503)")
    expect(page.get_by_text(re.compile(r"^Failed · started"))).to_be_visible()
    expect(page.get_by_text(f"{SCRAPE.label} — failed · 3 attempts")).to_be_visible()
    screenshot(page, "04-job-failed")

    fake_anthropic.reset()  # the faults are gone
    page.get_by_role("button", name="Retry").click()
    expect(page).not_to_have_url(re.compile(f"job={failed_id}"))
    expect(page).to_have_url(JOB_URL)
    expect_completed(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).not_to_contain_text("offline")
    expect_briefing_headings(page)


def test_claude_failure_is_explained_on_the_briefing(app_url, page, fake_site, fake_anthropic):
    """Claude fails every attempt: the briefing still arrives, from the offline analyzer, and says why."""
    fake_anthropic.enqueue(*[FakeAnthropic.overloaded()] * 4)  # both parts, both attempts
    submit(page, app_url, "Acme Robotics", fake_site.url, "Claude down")

    expect_completed(page)
    notice = page.get_by_test_id("stAlertContentSuccess")
    expect(notice).to_contain_text("offline analyzer")
    expect(notice).to_contain_text("Claude failed")
    expect_briefing_headings(page)


def test_the_job_page_shows_verified_sections_while_claude_writes(app_url, page, fake_site, fake_anthropic):
    """A model writing a full briefing at 100 tokens/s: the overview is on the page, with its
    citations, while the job still runs; then the whole briefing replaces it."""
    fake_anthropic.full_drafts = True
    fake_anthropic.tokens_per_s = 100
    submit(page, app_url, "Acme Robotics", fake_site.url, "Live sections")

    expect(page.get_by_text(re.compile(r"writing the briefing: about [\d ]+ tokens; overview"))).to_be_visible(
        timeout=JOB_TIMEOUT_MS
    )
    expect(page.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    expect(page.get_by_text("Verified sections so far; the rest is still being written.")).to_be_visible()
    expect(page.get_by_role("link", name="[1]").first).to_be_visible()  # a verified citation
    expect(page.get_by_test_id("stProgress")).to_be_visible()  # the job is still running
    expect(page.get_by_role("button", name="Download Markdown")).to_have_count(0)
    screenshot(page, "10-job-writing")

    expect_completed(page)
    expect_briefing_headings(page)


def test_cancel_stops_a_running_job(app_url, page, fake_site):
    fake_site.fail("/", slow_home(fake_site, 3.0))
    submit(page, app_url, "Acme Robotics", fake_site.url, "Cancel test")

    expect(page.get_by_test_id("stProgress")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()

    expect(page.get_by_text(re.compile(r"^Cancelled · started"))).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_test_id("stProgress")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.get_by_role("button", name="Download Markdown")).to_have_count(0)


def test_two_tabs_follow_two_jobs_at_once(app_url, context, fake_site):
    fake_site.fail("/", slow_home(fake_site, 3.0), slow_home(fake_site, 3.0))
    first, second = context.new_page(), context.new_page()
    first_id = submit(first, app_url, "Acme Robotics", fake_site.url, "Tab one")
    second_id = submit(second, app_url, "Acme Robotics", fake_site.url, "Tab two")
    assert first_id != second_id

    for tab in (first, second):
        expect_completed(tab)
        expect(tab.get_by_role("heading", name="Overview", exact=True)).to_be_visible()
    assert JOB_URL.search(first.url).group(1) == first_id
    assert JOB_URL.search(second.url).group(1) == second_id


@pytest.fixture
def keyless_app(browser, tmp_path, fake_site, fake_github):
    """A second served app with no Anthropic key, no secrets file and an empty database."""
    if (PROJECT_DIR / ".streamlit" / "secrets.toml").exists():
        pytest.fail("this checkout has .streamlit/secrets.toml; the app would read its keys: move it aside")
    app = serve_app(app_environment(tmp_path, fake_services_env(fake_site, fake_github, None)), tmp_path)
    yield app
    app.stop()


def test_without_keys_the_app_starts_clean_and_writes_offline(keyless_app, page, fake_site):
    """No API key and no secrets: no error anywhere, History's empty state, an offline briefing."""
    page.goto(keyless_app.url)
    expect(page.get_by_role("heading", name="Interview Prep")).to_be_visible()
    expect(page.get_by_role("button", name="Research")).to_be_visible()
    expect_no_error_on_screen(page)

    page.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
    expect(page.get_by_text("No jobs yet")).to_be_visible()
    expect_no_error_on_screen(page)
    screenshot(page, "07-history-empty")
    page.get_by_role("link", name="Start a new research").click()
    expect(page.get_by_role("heading", name="Interview Prep")).to_be_visible()

    submit(page, keyless_app.url, "Acme Robotics", fake_site.url, "Offline test")
    expect_completed(page)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("offline analyzer")
    expect(page.get_by_test_id("stAlertContentInfo")).to_have_count(0)  # said once, in the notice above
    expect_briefing_headings(page)
    expect_no_error_on_screen(page)
    screenshot(page, "08-briefing-offline")
