"""With PREP_API_TOKEN set, the pages are protected like the API: in Chromium, a visitor without
the token sees a sign-in prompt and nothing else on any page (no form, no History, no job, no
delete); with it, everything."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from harness.fakes.wiring import fake_services_env
from harness.live_app import ServedApp, app_environment, serve_app

pytestmark = pytest.mark.browser

TOKEN = "page-token-4f9a1c"
WAIT_S = 30


@pytest.fixture(scope="module")
def protected_app(browser, tmp_path_factory, fake_site, fake_github, fake_anthropic) -> Iterator[ServedApp]:
    """The app served by `streamlit run` with PREP_API_TOKEN set."""
    workdir = tmp_path_factory.mktemp("protected-app")
    env = app_environment(
        workdir, {**fake_services_env(fake_site, fake_github, fake_anthropic), "PREP_API_TOKEN": TOKEN}
    )
    app = serve_app(env, workdir)
    yield app
    app.stop()


def _expect_only_the_sign_in(page: Page, secret: str) -> None:
    """The sign-in prompt, and none of the app: no form, no navigation, no job, no History."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Access token")).to_be_visible()
    for absent in ("Company name", "Companies"):
        expect(page.get_by_role("textbox", name=absent)).to_have_count(0)
    for absent in ("Research", "Delete…", "Retry", "Download Markdown"):
        expect(page.get_by_role("button", name=absent, exact=True)).to_have_count(0)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    assert secret not in page.content()


def test_a_visitor_without_the_token_sees_only_the_sign_in(protected_app, fake_site, page: Page):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    secret = "Zyxwv Robotics"
    job_id = httpx.post(
        f"{protected_app.url}/api/research-direct",
        json={"companyName": secret, "companyUrl": fake_site.url},
        headers=auth,
        timeout=10,
    ).json()["jobId"]
    assert httpx.get(f"{protected_app.url}/api/jobs", timeout=10).status_code == 401  # as before

    for path in ("/", "/history", "/batch", f"/job?job={job_id}"):
        page.goto(protected_app.url + path)
        _expect_only_the_sign_in(page, secret)

    page.get_by_label("Access token").fill("wrong-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("That is not the access token.")).to_be_visible()
    _expect_only_the_sign_in(page, secret)

    page.get_by_label("Access token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=secret)).to_be_visible()  # the page asked for, now open
    expect(page.get_by_role("button", name="Delete…")).to_be_visible(timeout=WAIT_S * 1000)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="History").click()
    expect(page.get_by_role("link", name=secret)).to_be_visible()
