"""The PDF export: the Markdown document typeset; it opens, its text (Unicode names included) can be
extracted, its links are clickable and its footnotes are there; served by the API and the page."""

from __future__ import annotations

import io

from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

from core.request import ResearchRequest
from harness.fakes.server import Reply
from pipeline.markdown import render_markdown
from pipeline.models import AdviceItem, Briefing, Citation, Item, Source
from pipeline.pdf import render_pdf
from settings import PROJECT_DIR
from worker.runner import get_runner

WAIT_S = 30
ACCENTED = "Société Générale Ærø"
CJK = "株式会社テスト"
HEBREW = "שלום עולם"
ARABIC = "مرحبا بالعالم"


def _text(data: bytes) -> tuple[str, list[str]]:
    """The extracted text of every page, and the URI of every link annotation."""
    reader = PdfReader(io.BytesIO(data))
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots") or []
        if "/A" in annotation.get_object()
    ]
    return "\n".join(page.extract_text() for page in reader.pages), links


def _briefing(company: str, questions: int = 5) -> Briefing:
    """A verified briefing: one cited fact on each of two sources, advice with Unicode names."""
    return Briefing(
        company_name=company,
        overview=[Item(text="Growth is strong.", citations=[Citation(source="S1", quote="growth is strong")])],
        tech_stack=[Item(text="Rust", citations=[Citation(source="S2", quote="written in Rust")])],
        interview_questions=[AdviceItem(text=f"Question {n}: " + "why " * 40) for n in range(1, questions + 1)],
        key_talking_points=[AdviceItem(text=f"Meet the {HEBREW} team and the {ARABIC} office.")],
        sources=[
            Source(id="S1", kind="page", url="https://acme.example/report", title="Annual report"),
            Source(id="S2", kind="repository", url="https://github.com/acme-robotics/robot-os", title="robot-os"),
        ],
        grounded=True,
        analysis_mode="claude",
        model="claude-sonnet-5-5",
    )


def test_unicode_names_links_and_footnotes_survive_the_pdf():
    company = f"{ACCENTED} {CJK}"
    markdown = render_markdown(
        _briefing(company), role="Ingénieure 开发者", created_at="2026-11-29T10:00:00Z", usage="cost $0."
    )

    data = render_pdf(markdown, title=f"Interview briefing: {company}")

    assert data.startswith(b"%PDF-")
    text, links = _text(data)
    for expected in (ACCENTED, CJK, HEBREW, ARABIC, "Ingénieure 开发者", "Interview questions", "Usage: cost $0."):
        assert expected in text
    assert "Growth is strong.[1]" in text and "Rust[2]" in text  # the footnote marks…
    assert "Annual report" in text and "robot-os" in text  # …and their notes
    assert set(links) >= {"https://acme.example/report", "https://github.com/acme-robotics/robot-os"}
    # Text that looks like fpdf2's markup stays literal: -- is not underline.
    assert "--" in _text(render_pdf("Use --verbose and ~~this~~ as is.", title="t"))[0]


def test_a_footnote_mark_is_its_source_number_whatever_the_order_of_citing():
    briefing = _briefing("Acme").model_copy(
        update={"overview": [Item(text="Built on robots.", citations=[Citation(source="S2", quote="robots")])]}
    )

    text, _ = _text(render_pdf(render_markdown(briefing), title="Acme"))

    assert "Built on robots.[2]" in text and "Rust[2]" in text  # S2 is [2] although cited first
    assert "2. robot-os" in text  # its note carries the number of the Sources list


def test_a_long_briefing_breaks_onto_more_pages():
    reader = PdfReader(io.BytesIO(render_pdf(render_markdown(_briefing("Acme", questions=20)), title="Acme")))

    assert len(reader.pages) > 1 and "Question 20" in reader.pages[-1].extract_text() + reader.pages[-2].extract_text()


# -- through the API and the page ------------------------------------------------------------------


def test_the_api_serves_the_pdf_of_a_finished_job(client, fake_site):
    company = f"{ACCENTED} {CJK} {HEBREW}"
    job_id = client.post("/api/research-direct", json={"companyName": company, "companyUrl": fake_site.url}).json()[
        "jobId"
    ]
    get_runner().wait(job_id, timeout_s=WAIT_S)

    response = client.get(f"/api/research/{job_id}/pdf")

    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].endswith(f'-briefing-{job_id[:8]}.pdf"')
    text, links = _text(response.content)
    flat = " ".join(text.split())  # a long name may wrap onto a second line
    assert company in flat and "Usage: 2 calls to" in flat
    assert any(link.startswith(fake_site.url) for link in links)


def test_the_pdf_of_a_job_without_a_briefing_is_a_409(client, fake_site):
    fake_site.fail("/", Reply(404, b"gone", {"Content-Type": "text/html"}))
    job_id = client.post("/api/research-direct", json={"companyName": "Acme", "companyUrl": fake_site.url}).json()[
        "jobId"
    ]
    get_runner().wait(job_id, timeout_s=WAIT_S)

    assert client.get(f"/api/research/{job_id}/pdf").status_code == 409


def test_the_job_page_offers_the_pdf(app_env, fake_site):
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=WAIT_S)
    at.query_params["job"] = job.id
    at.switch_page("pages/job.py")
    at = at.run()

    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Download Markdown", "Download PDF"]
