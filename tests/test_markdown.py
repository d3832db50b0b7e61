"""The Markdown download: standard footnotes that render, the same sections as the page, old briefings."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin

from pipeline.markdown import load_briefing, render_markdown, sections
from pipeline.models import (
    AdviceItem,
    Briefing,
    Citation,
    Item,
    RoleFit,
    Salary,
    Source,
    Unverified,
    Verification,
)

BRIEFING = Briefing(
    company_name="Acme Robotics",
    overview=[Item(text="Acme makes sorting robots.", citations=[Citation(source="S1", quote="Acme makes robots")])],
    tech_stack=[Item(text="Python", citations=[Citation(source="S2", quote='written in "Python"')])],
    salary=Salary(
        min=70_000, max=85_000, currency="€", basis="source", citations=[Citation(source="S1", quote="€70k–€85k")]
    ),
    interview_questions=[AdviceItem(text=f"Question {n}?", prepares_for="Python in production") for n in range(5)],
    role_fit=[
        RoleFit(
            requirement="Python in production",
            requirement_citation=Citation(source="S3", quote="Python in production"),
            finding="The site says the fleet runs Python.",
            citations=[Citation(source="S2", quote='written in "Python"')],
            practice_question="How did you run Python in production?",
        ),
        RoleFit(requirement="Calm on call", practice_question="Tell me about an incident."),
    ],
    not_verified=[Unverified(section="Tech stack", text="Erlang", reason="The quote is not in S1.")],
    verification=Verification(claims=5, verified=4, dropped=1),
    sources=[
        Source(id="S1", kind="page", url="https://acme.example/", title="Acme"),
        Source(id="S2", kind="page", url="https://acme.example/engineering", title="Engineering"),
        Source(id="S3", kind="posting", title="The job posting (pasted)"),
    ],
    grounded=True,
    analysis_mode="claude",
)


def test_footnotes_render_as_links_to_the_numbered_sources():
    document = render_markdown(BRIEFING)

    html = MarkdownIt().use(footnote_plugin).render(document)

    assert 'class="footnote-ref"' in html and 'class="footnotes"' in html
    assert html.count('<li id="fn') == 3  # each cited source once
    assert '<a href="https://acme.example/engineering">https://acme.example/engineering</a>' in html
    assert "[^" not in html  # every marker resolved


def test_the_download_is_the_page_s_document():
    document = render_markdown(BRIEFING)
    page = sections(BRIEFING, for_page=True)

    assert [s.title for s in page] == [s.title for s in sections(BRIEFING, for_page=False)]
    for section in page:
        assert f"## {section.title}" in document
    assert '[\\[1\\]](<https://acme.example/> "Acme makes robots")' in page[0].body  # marker with its quote
    assert 'written in \\"Python\\"' in next(s.body for s in page if s.title == "Tech stack")


def test_salary_role_fit_and_not_verified_read_plainly():
    document = render_markdown(BRIEFING)

    assert "**Stated by a source:** € 70,000 – 85,000 a year[^1]" in document
    assert "No evidence in the sources." in document
    assert "_(prepares for: “Python in production”)_" in document
    assert document.index("## Not verified (1)") > document.index("## Sources")
    assert "**Tech stack:** Erlang — _The quote is not in S1._" in document


def test_an_estimate_is_labelled_and_never_cited():
    estimate = Salary(min=60_000, max=80_000, currency="USD", basis="estimate", assumptions="role: SRE")
    document = render_markdown(BRIEFING.model_copy(update={"salary": estimate, "salary_source": "estimate"}))

    assert "**Model estimate:** USD 60,000 – 80,000 a year." in document
    assert "no source read for this job states it. It assumes role: SRE." in document


def test_a_briefing_stored_before_verification_shows_no_fact():
    old = {
        "companyName": "Acme",
        "overview": "Acme builds rockets.",
        "products": ["Rocket Cloud"],
        "techStack": ["Go"],
        "salaryRange": {"min": 1, "max": 2},
        "averageSalary": None,
        "interviewQuestions": ["Q?"],
        "preparationTips": ["Tip."],
        "keyTalkingPoints": [],
        "topChallenges": [],
        "cultureInsights": [],
        "smartQuestions": [],
        "redFlags": [],
        "prepChecklist": [],
        "sources": ["https://acme.example/"],
        "analysisMode": "claude",
        "model": "m",
    }

    briefing = load_briefing(old)

    assert briefing.overview == [] and briefing.tech_stack == [] and briefing.salary is None
    assert [entry.text for entry in briefing.not_verified] == ["Acme builds rockets.", "Rocket Cloud", "Go"]
    assert briefing.interview_questions[0].text == "Q?"
    assert "## Not verified (3)" in render_markdown(old)


HOSTILE = (
    "Fined [^2] twice]\n[^1]: https://evil.example [click](https://evil.example) "
    "![x](https://evil.example/x.png) www.evil.example $5$"
)


def test_untrusted_text_cannot_forge_a_citation_a_link_or_a_footnote():
    hostile = BRIEFING.model_copy(
        update={
            "overview": [Item(text=HOSTILE, citations=[Citation(source="S1", quote=HOSTILE)])],
            "not_verified": [Unverified(section="Red flags", text="# Sued [^1]", reason="The quote is not in S1.")],
            "sources": [*BRIEFING.sources[:2], Source(id="S3", kind="page", url="https://a.example/", title=HOSTILE)],
        }
    )
    document = render_markdown(hostile)
    html = MarkdownIt().use(footnote_plugin).render(document)

    assert "evil.example" not in "".join(re.findall(r'(?:href|src)="([^"]*)"', html))
    benign = MarkdownIt().use(footnote_plugin).render(render_markdown(BRIEFING))  # the same citations
    assert html.count('class="footnote-ref"') == benign.count('class="footnote-ref"') == 5
    assert html.count('<li id="fn') == 3 and "<h1>Sued" not in html and "<h2>Sued" not in html
    assert "[^2] twice]" in html and "# Sued [^1]" in html  # shown literally
    for section in sections(hostile, for_page=True):
        page = MarkdownIt().render(section.body)
        assert "evil.example" not in "".join(re.findall(r'(?:href|src)="([^"]*)"', page)), section.title
