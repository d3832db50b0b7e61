"""analyze_offline: every fact quoted from a source, no salary, practice tailored to the posting; deterministic."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.briefing import build_briefing
from pipeline.models import GitHubData, Page, Repository, ScrapedSite
from pipeline.offline import analyze_offline
from pipeline.posting import requirements

SITE = ScrapedSite(
    url="https://acme-rockets.com",
    title="Acme Rockets",
    meta_description="Acme Rockets builds reusable rockets for small satellites.",
    pages=[
        Page(
            url="https://acme-rockets.com/",
            title="Acme Rockets — launch for everyone",
            meta_description="Acme Rockets builds reusable rockets for small satellites.",
            headings=["Rocket Cloud", "Careers", "Contact us", "Mission Control API"],
            content=(
                "Our engineers earn a $180,000 salary on average. Our platform runs on Kubernetes and PostgreSQL. "
                "Our culture values ownership and transparency. Let's go to space together. "
                "The Rocket Cloud lets small teams book a launch in minutes. "
                "Swift delivery is our promise. Trusted by React Labs, Snowflake and Stripe."
            ),
        ),
        Page(url="https://acme-rockets.com/about", title="About", content="We are remote-first teams across Europe."),
    ],
)
GITHUB = GitHubData(
    organization="acme-rockets",
    repositories=[
        Repository(
            name="launchpad",
            url="https://github.com/acme-rockets/launchpad",
            description="Launch scheduler written in Golang",
            language="Go",
            stars=120,
        ),
        Repository(
            name="telemetry",
            url="https://github.com/acme-rockets/telemetry",
            description="Telemetry pipeline",
            language="Python",
            stars=40,
            topics=["kafka"],
        ),
    ],
    tech_stack=["Go", "Python"],
)
EMPTY_SITE = ScrapedSite(url=None, skipped_reason="the site did not answer")
EMPTY_GITHUB = GitHubData()


def build(draft, posting=None):
    return build_briefing(
        draft, company_name="Acme Rockets", site=SITE, github=GITHUB, mode="offline", model=None, posting=posting
    )


def test_invents_no_salary_even_when_the_page_mentions_one():
    briefing = build(analyze_offline("Acme Rockets", SITE, GITHUB, None))

    assert briefing.salary is None and briefing.salary_source is None
    for item in briefing.overview:  # the page's figure appears only inside a quote of the page
        assert "180,000" not in item.text or any("180,000" in c.quote for c in item.citations)


def test_says_plainly_that_it_is_the_offline_version():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    assert draft.key_talking_points[0].text.startswith("Offline version")


def test_talking_points_that_quote_a_title_or_a_repository_cite_it():
    briefing = build(analyze_offline("Acme Rockets", SITE, GITHUB, None))
    ids = {source.url: source.id for source in briefing.sources}

    cited = {point.text: point.sources for point in briefing.key_talking_points if point.sources}
    assert cited == {
        'How Acme Rockets presents itself: "Acme Rockets — launch for everyone".': [ids["https://acme-rockets.com/"]],
        "Their open-source project launchpad (120 stars), if it relates to your work.": [
            ids["https://github.com/acme-rockets/launchpad"]
        ],
        "Their open-source project telemetry (40 stars), if it relates to your work.": [
            ids["https://github.com/acme-rockets/telemetry"]
        ],
    }


def test_every_fact_carries_a_quote_that_verifies():
    briefing = build(analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer"))

    assert briefing.verification.claims > 5
    assert briefing.verification.dropped == 0 and briefing.not_verified == []
    facts = [*briefing.overview, *briefing.products, *briefing.tech_stack, *briefing.culture_insights]
    assert facts and all(item.citations for item in facts)


def test_overview_quotes_the_site_description_and_github():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    texts = [claim.text for claim in draft.overview]
    assert "Acme Rockets builds reusable rockets for small satellites." in texts
    assert any("launchpad" in text for text in texts)


def test_says_nothing_as_fact_when_no_site_was_read():
    draft = analyze_offline("Acme Rockets", EMPTY_SITE, EMPTY_GITHUB, None)

    assert draft.overview == [] and draft.products == [] and draft.tech_stack == []
    assert "none was read" in draft.preparation_tips[0].text


def test_products_are_named_offerings_not_headings():
    products = [claim.text for claim in analyze_offline("Acme Rockets", SITE, GITHUB, None).products]

    assert "Rocket Cloud" in products
    assert "Mission Control API" not in products  # a heading no sentence offers
    assert "launchpad (open source): Launch scheduler written in Golang" in products
    assert not {"Careers", "Contact us"} & set(products)


def test_stack_is_github_then_technologies_a_sentence_says_are_used():
    stack = [claim.text for claim in analyze_offline("Acme Rockets", SITE, GITHUB, None).tech_stack]

    assert stack[:2] == ["Go", "Python"]
    assert {"PostgreSQL", "Kubernetes"} <= set(stack)
    assert len(stack) == len({s.lower() for s in stack})


def test_a_mentioned_word_is_not_a_technology_in_use():
    stack = [claim.text for claim in analyze_offline("Acme Rockets", SITE, GITHUB, None).tech_stack]

    assert "Swift" not in stack  # "Swift delivery…" opens a sentence
    assert not {"React", "Snowflake"} & set(stack)  # a partner list says nothing about use


def test_a_capitalised_word_counts_when_its_sentence_says_it_is_used():
    page = Page(url="https://a.example/", content="Swift is great. Our iOS app is written in Swift and React Native.")
    site = ScrapedSite(url=page.url, pages=[page])

    stack = [claim.text for claim in analyze_offline("A", site, EMPTY_GITHUB, None).tech_stack]

    assert stack == ["Swift", "React"]


def test_questions_are_practice_questions_tailored_to_role_stack_and_products():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, "Data Scientist")

    joined = " ".join(q.text for q in draft.interview_questions)
    assert all(q.text.startswith("Practice question: ") for q in draft.interview_questions)
    assert "Acme Rockets as a Data Scientist" in joined
    assert "Rocket Cloud" in joined and "used Go" in joined
    assert "dataset" in joined


def test_role_words_match_whole_words_only():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, "Team Lead")

    joined = " ".join(q.text for q in draft.interview_questions)
    assert "someone on your team who is struggling" in joined
    assert "next release" not in joined


def test_culture_insights_quote_the_site():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    texts = [claim.text for claim in draft.culture_insights]
    assert "Our culture values ownership and transparency." in texts
    assert all(claim.evidence[0].quote == claim.text for claim in draft.culture_insights)


def test_is_deterministic():
    first = analyze_offline("Acme Rockets", SITE, GITHUB, "SRE")
    second = analyze_offline("Acme Rockets", SITE, GITHUB, "SRE")

    assert first.model_dump_json() == second.model_dump_json()


# -- the job posting -------------------------------------------------------------------------

POSTING = """Backend Engineer at Acme Rockets
We launch satellites.
Requirements:
- 3+ years of experience with Python
- Running services on Kubernetes in production
- Clear written communication
Benefits
- A rocket ride
"""


def test_requirements_come_from_the_list_under_their_heading():
    assert requirements(POSTING) == [
        "3+ years of experience with Python",
        "Running services on Kubernetes in production",
        "Clear written communication",
    ]


def test_requirements_without_headings_are_the_listed_items_or_requirement_sentences():
    assert requirements("Join us!\n* Go and gRPC services\n* On-call once a month") == [
        "Go and gRPC services",
        "On-call once a month",
    ]
    prose = "We are a small team. You have experience with Rust. You will own our billing service."
    assert requirements(prose) == ["You have experience with Rust.", "You will own our billing service."]


def test_role_fit_matches_requirements_against_the_verified_stack():
    posting = Page(url="", title="The job posting (pasted)", content=POSTING)
    briefing = build(analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer", posting), posting)

    fits = {fit.requirement: fit for fit in briefing.role_fit}
    assert list(fits) == requirements(POSTING)
    python = fits["3+ years of experience with Python"]
    assert python.finding and python.citations and python.requirement_citation.source == "S3"
    assert fits["Clear written communication"].finding == ""  # no evidence in the sources
    assert all(fit.practice_question for fit in briefing.role_fit)
    prepared = [q.prepares_for for q in briefing.interview_questions if q.prepares_for]
    assert prepared[:3] == requirements(POSTING)
    assert any(item.prepares_for for item in briefing.prep_checklist)
    assert briefing.preparation_tips[-1].prepares_for == "3+ years of experience with Python"
    assert 3 <= len(briefing.preparation_tips) <= 5


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
pages = st.builds(
    Page,
    url=st.just("https://x.example/p"),
    title=texts,
    meta_description=texts,
    headings=st.lists(texts, max_size=5),
    content=texts,
)
sites = st.builds(
    ScrapedSite,
    url=st.none() | st.just("https://x.example"),
    pages=st.lists(pages, max_size=3),
    skipped_reason=st.none() | texts,
)
repos = st.builds(
    Repository,
    name=st.text(min_size=1, max_size=30),
    url=st.just("https://github.com/x/y"),
    description=texts,
    stars=st.integers(0, 10**6),
    topics=st.lists(texts, max_size=3),
)
githubs = st.builds(
    GitHubData,
    organization=st.none() | texts,
    repositories=st.lists(repos, max_size=4),
    tech_stack=st.lists(st.text(min_size=1, max_size=20), max_size=50),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=100), site=sites, github=githubs, role=st.none() | st.text(max_size=120))
def test_any_input_gives_a_valid_offline_briefing(name, site, github, role):
    draft = analyze_offline(name, site, github, role)

    assert draft.salary is None and draft.salary_estimate is None
    assert 5 <= len(draft.interview_questions) and 3 <= len(draft.preparation_tips) <= 5
    assert draft == analyze_offline(name, site, github, role)
    briefing = build_briefing(draft, company_name=name, site=site, github=github, mode="offline", model=None)
    assert briefing.salary is None
    assert all(item.citations for item in [*briefing.overview, *briefing.products, *briefing.tech_stack])


def test_section_titles_are_not_taken_for_products():
    page = Page(url="https://acme.example/", headings=["Our stack", "Why join us", "Life at Acme", "SortBot 3000"])
    draft = analyze_offline("Acme", ScrapedSite(url=page.url, pages=[page]), GitHubData(), None)

    assert draft.products == []  # headings alone are not offerings


def test_navigation_and_headings_run_into_the_text_do_not_enter_a_quote():
    page = Page(
        url="https://acme.example/",
        headings=["Robots that sort", "Our stack"],
        content="Home About us Robots that sort Acme makes sorting robots. Our stack Our code is written in Python.",
    )
    site = ScrapedSite(url=page.url, pages=[page])

    draft = analyze_offline("Acme", site, EMPTY_GITHUB, None)

    assert [claim.text for claim in draft.overview] == ["Acme makes sorting robots.", "Our code is written in Python."]
    assert draft.tech_stack[0].evidence[0].quote == "Our code is written in Python."


@pytest.mark.parametrize("heading", ["Qualifications", "What you'll do", "What you’ll do:", "## You have", "About you"])
def test_requirement_headings_are_recognised(heading):
    posting = f"Intro line that is long enough to be prose, about the company.\n{heading}\n• Own the billing service\n"

    assert requirements(posting + "Perks\n• Free lunch every day") == ["Own the billing service"]
