"""Links in the exports: the PDF and the Markdown of a job whose page title, company name, role and
model reply carry links of every form link only to the job's own sources; the rest is plain text.
The PDF's link annotations are read back with pypdf."""

from __future__ import annotations

from markdown_it import MarkdownIt

from harness.fakes.anthropic_api import FakeAnthropic
from harness.fakes.server import Reply
from pipeline.pdf import render_pdf
from tests.test_pdf import _text as pdf_text
from worker.runner import get_runner

WAIT_S = 30
HOSTILE_PAGE = b"""<!doctype html><html><head>
<title>Acme [phish](https://evil.example/phish) [run](javascript:alert(1)) <b>Robotics</b></title></head>
<body><h1>Acme Robotics</h1><p>Acme Robotics builds warehouse robots. The fleet software is written
in Python.</p></body></html>"""
COMPANY = "Acme [x](javascript:alert(2))"
ROLE = "SRE [y](https://evil.example/role)"
# Model text the briefing's link filter does not see as a link (a space in the target), and forms it does.
SPACED = "Ask [here](javascript:alert(3) x) and [there](data:text/html,evil y)."
OTHERS = "See [a](javascript:alert(4)), <javascript:alert(5)>, [b](https://evil.example/b) and evil@attacker.example."


def _pdf_links(data: bytes) -> tuple[str, list[str]]:
    """The PDF's text, its lines joined, and the URI of every link annotation."""
    text, links = pdf_text(data)
    return " ".join(text.split()), links


def _markdown_links(text: str) -> list[str]:
    """Every link target a CommonMark reader finds in the document (links and autolinks)."""
    tokens = MarkdownIt("commonmark").parse(text)
    return [
        str(child.attrGet("href")) for token in tokens for child in token.children or [] if child.type == "link_open"
    ]


def test_the_pdf_and_the_markdown_link_only_to_the_jobs_sources(client, fake_site, fake_anthropic):
    fake_site.fail("/", Reply(200, HOSTILE_PAGE, {"Content-Type": "text/html"}))
    draft = FakeAnthropic.draft("Acme Robotics")
    draft["smartQuestions"] = [{"text": SPACED}, {"text": OTHERS}]
    fake_anthropic.enqueue(draft)
    job_id = client.post(
        "/api/research-direct", json={"companyName": COMPANY, "companyUrl": fake_site.url, "role": ROLE}
    ).json()["jobId"]
    get_runner().wait(job_id, timeout_s=WAIT_S)
    results = client.get(f"/api/research-status/{job_id}").json()["briefing"]
    own = {source["url"] for source in results["sources"] if source["url"]}
    assert own and all(url.startswith(("https://github.com/", fake_site.url)) for url in own)

    text, pdf_links = _pdf_links(client.get(f"/api/research/{job_id}/pdf").content)
    markdown = client.get(f"/api/research/{job_id}/markdown").text

    assert pdf_links and set(pdf_links) <= own, pdf_links
    assert set(_markdown_links(markdown)) <= own
    assert "[here](javascript:alert(3) x)" in text  # shown as the plain text it is
    assert COMPANY in text and ROLE in text
    page = next(source for source in results["sources"] if source["kind"] == "page")
    assert page["title"] == "Acme phish run Robotics"  # cleaned like every untrusted string


def test_an_own_link_keeps_brackets_in_its_text_and_control_characters_spell_nothing():
    markdown = "1. [Report \\[2024\\]](<https://acme.example/r>) — web page\n\nA \x02b\x03javascript:x\x04 c\n"

    text, links = _pdf_links(render_pdf(markdown, title="t"))

    assert links == ["https://acme.example/r"]
    assert "Report [2024]" in text and "A bjavascript:x c" in text
