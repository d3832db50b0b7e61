"""Batch research in a real Chromium, against `streamlit run app.py` on the loopback fakes: bad lines
listed with nothing queued, then a batch whose page updates on its own, its zip, and a CSV upload."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from pipeline.markdown import WORD_JOINER
from tests.helpers import screenshot

pytestmark = pytest.mark.browser

JOB_TIMEOUT_MS = 60_000  # a whole batch of three, from submit to its final page, milliseconds
BATCH_URL = re.compile(r"/batch\?batch=(\w+)")


def _fill(page, text: str) -> None:
    page.get_by_role("textbox", name="Companies").fill(text)
    page.get_by_role("button", name="Research all").click()


def test_a_batch_from_typed_lines_with_live_progress_and_its_zip(app_url, page, fake_site):
    page.goto(app_url)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Research several companies").click()
    expect(page.get_by_role("heading", name="Research several companies")).to_be_visible()

    _fill(page, f"Acme Robotics, {fake_site.url}, Backend Engineer\nBroken, ftp://acme.com\n")
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("Nothing was queued")
    # A word joiner sits in "http:⁠//" (pipeline.markdown.defuse_autolinks): it reads the same.
    expect(alert).to_contain_text(f"Line 2: Only http:{WORD_JOINER}// and https:{WORD_JOINER}//")
    expect(page).not_to_have_url(BATCH_URL)

    # Each home page answers a little later than the one before, so the page shows a batch in flight.
    fake_site.fail("/", *[replace(fake_site.page("/"), delay_s=delay) for delay in (0.5, 2.5, 4.5)])
    lines = [
        f"Acme Robotics, {fake_site.url}, Backend Engineer",
        f"Société Générale, {fake_site.url}, Data Engineer",
        f"Globex, {fake_site.url}",
    ]
    _fill(page, "\n".join(lines))
    expect(page).to_have_url(BATCH_URL)
    expect(page.get_by_role("heading", name="Batch of 3 companies")).to_be_visible()
    progress = page.get_by_test_id("stProgress")
    expect(progress).to_contain_text(re.compile(r"[0-2] of 3 finished"))  # in flight, without a reload
    expect(progress).to_contain_text("3 of 3 finished: 3 completed, 0 failed", timeout=JOB_TIMEOUT_MS)
    for company in ("Acme Robotics (Backend Engineer)", "Société Générale (Data Engineer)", "Globex"):
        expect(page.get_by_role("link", name=f"{company} — completed · 6/6 steps")).to_be_visible()
    screenshot(page, "07-batch")  # docs/screenshots/batch.png is a copy of it

    with page.expect_download() as download_info:
        page.get_by_role("button", name=re.compile(r"Download 3 briefings")).click()
    with zipfile.ZipFile(io.BytesIO(Path(download_info.value.path()).read_bytes())) as archive:
        names = archive.namelist()
        first = archive.read(names[0]).decode()
    assert len(names) == 3 and all(name.endswith(".md") for name in names), names
    assert first.startswith("# Interview briefing: Acme Robotics")

    # A company's page offers the same briefing as a PDF, typeset when the button is clicked.
    page.get_by_role("link", name="Société Générale (Data Engineer)").click()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()
    pdf = PdfReader(download_info.value.path())
    assert download_info.value.suggested_filename.endswith(".pdf")
    assert "Interview briefing: Société Générale" in pdf.pages[0].extract_text()
    page.go_back()

    page.get_by_role("link", name="These jobs in History").click()
    expect(page).to_have_url(re.compile(r"/history\?batch="))
    expect(page.get_by_text(re.compile(r"Jobs 1–3 of 3"))).to_be_visible()


def test_a_batch_from_an_uploaded_csv(app_url, page, fake_site, tmp_path):
    csv_file = tmp_path / "companies.csv"
    csv_file.write_text(f"role,company,website\nSRE,Initech,{fake_site.url}\n,Umbrella,{fake_site.url}\n")
    page.goto(f"{app_url}/batch")

    page.locator('input[type="file"]').set_input_files(str(csv_file))
    expect(page.get_by_text("companies.csv")).to_be_visible()
    page.get_by_role("button", name="Research all").click()

    expect(page).to_have_url(BATCH_URL)
    expect(page.get_by_role("heading", name="Batch of 2 companies")).to_be_visible()
    expect(page.get_by_test_id("stProgress")).to_contain_text("2 of 2 finished", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("link", name=re.compile(r"Initech \(SRE\) — completed"))).to_be_visible()
