"""analyze_offline: a grounded briefing without Claude, that invents nothing and is deterministic."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.briefing import build_briefing
from pipeline.models import GitHubData, Page, Repository, ScrapedSite
from pipeline.offline import TECH_VOCABULARY, analyze_offline, tech_stack

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
                "Our engineers earn a $180,000 salary on average. We run PostgreSQL on Kubernetes. "
                "Our culture values ownership and transparency. Let's go to space together."
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


def test_invents_no_salary_even_when_the_page_mentions_one():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer")

    assert draft.salary_range is None
    assert draft.average_salary is None
    assert "180,000" not in draft.model_dump_json()


def test_says_plainly_that_it_is_the_offline_version():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    assert "offline version" in draft.overview and "without Claude" in draft.overview
    assert draft.key_talking_points[0].startswith("Offline version")


def test_overview_uses_the_site_description_and_github_facts():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    assert "builds reusable rockets for small satellites" in draft.overview
    assert "2 public repositories" in draft.overview
    assert "launchpad (120 stars)" in draft.overview


def test_says_honestly_when_no_site_was_read():
    draft = analyze_offline("Acme Rockets", EMPTY_SITE, EMPTY_GITHUB, None)

    assert "No public website was read for Acme Rockets (the site did not answer)." in draft.overview
    assert "No public GitHub repositories were found." in draft.overview
    assert draft.products == [] and draft.tech_stack == []


def test_products_come_from_headings_and_repositories_without_site_sections():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    assert draft.products[:2] == ["Rocket Cloud", "Mission Control API"]
    assert "launchpad (open source): Launch scheduler written in Golang" in draft.products
    assert not {"Careers", "Contact us"} & set(draft.products)


def test_tech_stack_is_github_first_then_words_found_in_the_text():
    stack = tech_stack(SITE, GITHUB)

    assert stack[:2] == ["Go", "Python"]
    assert {"PostgreSQL", "Kubernetes", "Kafka"} <= set(stack)
    assert len(stack) == len({s.lower() for s in stack})  # "Go" from Golang is not repeated


def test_tech_words_need_an_unambiguous_form():
    site = ScrapedSite(
        pages=[
            Page(
                url="https://x.example",
                content=(
                    "Let's go! The rust never sleeps at acme.net; we react quickly. The javascript team uses Java, too."
                ),
            )
        ]
    )

    stack = tech_stack(site, EMPTY_GITHUB)

    assert stack == ["JavaScript", "Java"]


def test_every_stack_item_is_grounded_in_the_data():
    texts = [p.content + " " + " ".join(p.headings) for p in SITE.pages]
    texts += [r.description + " " + " ".join(r.topics) for r in GITHUB.repositories]
    patterns = {name: re.compile(pattern, re.IGNORECASE) for name, pattern in TECH_VOCABULARY}

    stack = analyze_offline("Acme Rockets", SITE, GITHUB, None).tech_stack

    assert len(stack) >= 5
    for item in stack:
        assert item in GITHUB.tech_stack or patterns[item].search("\n".join(texts)), item


def test_questions_are_practice_questions_tailored_to_role_stack_and_products():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, "Data Scientist")

    assert 5 <= len(draft.interview_questions) <= 20
    assert all(q.startswith("Practice question: ") for q in draft.interview_questions)
    joined = "\n".join(draft.interview_questions)
    assert "Acme Rockets as a Data Scientist" in joined
    assert "Rocket Cloud" in joined and "used Go" in joined
    assert "dataset" in joined  # the data role family


def test_role_words_match_whole_words_only():
    draft = analyze_offline("Acme", EMPTY_SITE, EMPTY_GITHUB, "Development Lead")  # "pm" is inside "development"

    joined = "\n".join(draft.interview_questions)
    assert "someone on your team who is struggling" in joined  # the lead family
    assert "next release" not in joined  # not the product-manager family


def test_tips_are_three_to_five_and_follow_the_data():
    full = analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer")
    bare = analyze_offline("Acme Rockets", EMPTY_SITE, EMPTY_GITHUB, None)

    assert len(full.preparation_tips) == 5
    assert any("launchpad" in tip for tip in full.preparation_tips)
    assert 3 <= len(bare.preparation_tips) <= 5
    assert "none was read" in bare.preparation_tips[0]


def test_culture_insights_quote_the_site():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, None)

    assert "The site says: Our culture values ownership and transparency." in draft.culture_insights
    assert all(i.startswith("The site says: ") for i in draft.culture_insights)


def test_is_deterministic():
    first = analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer")
    second = analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer")

    assert first.model_dump_json() == second.model_dump_json()


def test_offline_draft_survives_build_briefing():
    draft = analyze_offline("Acme Rockets", SITE, GITHUB, "Backend Engineer")

    briefing = build_briefing(draft, company_name="Acme Rockets", site=SITE, github=GITHUB, mode="offline", model=None)

    assert briefing.analysis_mode == "offline"
    assert briefing.interview_questions == draft.interview_questions
    assert "https://acme-rockets.com" in briefing.preparation_tips[0]  # the company's own link survives


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

    assert draft.salary_range is None and draft.average_salary is None
    assert 5 <= len(draft.interview_questions) and 3 <= len(draft.preparation_tips) <= 5
    assert "without Claude" in draft.overview
    assert draft == analyze_offline(name, site, github, role)
    build_briefing(draft, company_name=name, site=site, github=github, mode="offline", model=None)


def test_section_titles_are_not_taken_for_products():
    page = Page(url="https://acme.example/", headings=["Our stack", "Why join us", "Life at Acme", "SortBot 3000"])
    draft = analyze_offline("Acme", ScrapedSite(url=page.url, pages=[page]), GitHubData(), None)

    assert draft.products == ["SortBot 3000"]
