"""Analyze-offline: a briefing built from the scraped site and GitHub data alone, without Claude.

It invents nothing: no salary, no facts that are not in the data. Questions and tips are
generic practice material, grounded in the role, the stack and the products that were found.
The output depends only on the inputs (no clock, no randomness). The word lists and practice
questions it draws on are in `pipeline.offline_data`.
"""

from __future__ import annotations

import re

from pipeline.models import BriefingDraft, GitHubData, Page, ScrapedSite
from pipeline.offline_data import (
    GENERIC_HEADINGS,
    GENERIC_PREFIXES,
    GENERIC_QUESTIONS,
    ROLE_QUESTIONS,
    TECH_VOCABULARY,
)

MAX_OVERVIEW_SENTENCES = 3
MIN_SENTENCE_CHARS = 12
MAX_SENTENCE_CHARS = 300
MAX_PRODUCTS = 10
MAX_HEADING_PRODUCTS = 6
MAX_REPO_PRODUCTS = 4
MAX_STACK = 25
MAX_QUESTIONS = 12
MAX_CULTURE_INSIGHTS = 3

_TECH_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in TECH_VOCABULARY)

_CULTURE_WORDS = re.compile(
    r"\b(culture|values?|mission|remote|hybrid|diversity|inclusion|inclusive|team(?:s)?|benefits|"
    r"learning|ownership|transparen(?:t|cy))\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")


def analyze_offline(company_name: str, site: ScrapedSite, github: GitHubData, role: str | None) -> BriefingDraft:
    """A briefing draft from the scraped site and GitHub data alone: nothing invented, no salary."""
    company = " ".join(company_name.split()) or "the company"
    role_name = " ".join((role or "").split())
    pages = site.pages_or_summary()
    stack = tech_stack(site, github)
    products = _products(pages, github)
    return BriefingDraft(
        overview=_overview(company, site, pages, github),
        products=products,
        tech_stack=stack,
        salary_range=None,
        average_salary=None,
        interview_questions=_questions(company, role_name, stack, products, github),
        preparation_tips=_tips(company, role_name, site, pages, stack, github),
        key_talking_points=_talking_points(company, pages, stack, github),
        top_challenges=[
            "Not assessed in the offline version: "
            "ask your interviewers what the team's biggest challenge is this year.",
        ],
        culture_insights=_culture(pages),
        smart_questions=_smart_questions(role_name, stack, github),
        red_flags=[],
        prep_checklist=_checklist(company, role_name, pages, github),
    )


def tech_stack(site: ScrapedSite, github: GitHubData) -> list[str]:
    """GitHub's tech stack, then vocabulary words found in the pages and repositories, deduplicated."""
    texts = [_page_text(page) for page in site.pages_or_summary()]
    texts += [" ".join([repo.description, *repo.topics]) for repo in github.repositories]
    corpus = "\n".join(texts)
    found = [name for name, pattern in _TECH_PATTERNS if pattern.search(corpus)]
    return _unique([*github.tech_stack, *found])[:MAX_STACK]


def _page_text(page: Page) -> str:
    """Everything readable on a page, as one string."""
    return "\n".join([page.title, page.meta_description, *page.headings, page.content])


def _sentences(text: str) -> list[str]:
    """The text split into whitespace-normalised sentences of sensible length."""
    flat = " ".join(text.split())
    return [s for s in _SENTENCE_END.split(flat) if MIN_SENTENCE_CHARS <= len(s) <= MAX_SENTENCE_CHARS]


def _overview(company: str, site: ScrapedSite, pages: list[Page], github: GitHubData) -> str:
    """What the company says about itself, introduced as the offline version."""
    parts = [
        f"This is the offline version of the briefing, made without Claude from {company}'s public "
        "website and GitHub data only; it contains no salary figures and no guesses."
    ]
    if pages:
        page_descriptions = (p.meta_description for p in pages if p.meta_description)
        description = site.meta_description or next(page_descriptions, "")
        sentences = _sentences(description) or _sentences(" ".join(p.content for p in pages))
        if sentences:
            parts.append(f"{company}'s website says: " + " ".join(sentences[:MAX_OVERVIEW_SENTENCES]))
        else:
            parts.append(f"{company}'s website was read but says little about what the company does.")
    else:
        reason = f" ({' '.join(site.skipped_reason.split())})" if site.skipped_reason else ""
        parts.append(f"No public website was read for {company}{reason}.")
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        org = github.organization or company
        repos = _count(len(github.repositories), "public repository", "public repositories")
        parts.append(
            f"Its GitHub organisation {org} has {repos} in this briefing; "
            f"the most starred is {top.name} ({top.stars} stars)."
        )
    else:
        parts.append("No public GitHub repositories were found.")
    return " ".join(parts)[:4000]


def _products(pages: list[Page], github: GitHubData) -> list[str]:
    """Product-like headings from the site, then the most starred repositories with their descriptions."""
    headings = [" ".join(h.split()) for page in pages for h in page.headings]
    named = [h for h in headings if 3 <= len(h) <= 80 and not _is_generic(h)]
    repos = sorted(github.repositories, key=lambda r: (-r.stars, r.name))[:MAX_REPO_PRODUCTS]
    from_repos = [
        f"{repo.name} (open source): {' '.join(repo.description.split())}"
        if repo.description.strip()
        else f"{repo.name} (open source)"
        for repo in repos
    ]
    return _unique([*named[:MAX_HEADING_PRODUCTS], *from_repos])[:MAX_PRODUCTS]


def _is_generic(heading: str) -> bool:
    """Navigation and section titles ("Careers", "Our stack", "Why join us") are not products."""
    text = heading.lower().strip(" .!:?")
    return text in GENERIC_HEADINGS or text.startswith(GENERIC_PREFIXES)


def _short_product(product: str) -> str:
    """A product entry without its description, for use inside a sentence."""
    return product.split(" (open source)")[0]


def _questions(company: str, role: str, stack: list[str], products: list[str], github: GitHubData) -> list[str]:
    """At least five practice questions from the role, the stack and the products."""
    as_role = f"as {_article(role)} {role}" if role else "in this role"
    questions = [f"Why do you want to work at {company} {as_role}?"]
    questions += [f"What do you know about {_short_product(p)}, and how would you improve it?" for p in products[:2]]
    questions += [f"Describe a project where you used {tech}: what trade-offs did you make?" for tech in stack[:3]]
    questions += list(_role_questions(role))
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        questions.append(f"If you contributed to {top.name}, what would you look at first, and why?")
    questions += GENERIC_QUESTIONS
    return [f"Practice question: {q}" for q in _unique(questions)[:MAX_QUESTIONS]]


def _role_questions(role: str) -> tuple[str, ...]:
    """The practice questions for the first role family the role belongs to."""
    lowered = role.lower()
    for words, questions in ROLE_QUESTIONS:
        if any(re.search(_word_pattern(word), lowered) for word in words):
            return questions
    return ()


def _word_pattern(word: str) -> str:
    """A pattern for a word at a word start; short words (pm, ai, ux) must stand alone."""
    return rf"\b{re.escape(word)}" + (r"\b" if len(word) <= 3 else "")


def _tips(
    company: str, role: str, site: ScrapedSite, pages: list[Page], stack: list[str], github: GitHubData
) -> list[str]:
    """Three to five preparation tips that follow from the data."""
    tips = []
    if pages:
        where = f" ({site.url})" if site.url else ""
        tips.append(f"Read {company}'s website{where} and be ready to say in two sentences what it sells and to whom.")
    else:
        tips.append(f"Find {company}'s website yourself: none was read for this briefing.")
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        tips.append(
            f"Browse {company}'s public repositories on GitHub, starting with {top.name}: "
            "note its tests, docs and open issues."
        )
    if stack:
        tips.append(f"Refresh the basics of {_join(stack[:3])}, which the data links to {company}.")
    for_role = f" for {_article(role)} {role} role" if role else ""
    tips.append(f"Prepare three stories in the STAR format (situation, task, action, result){for_role}.")
    tips.append("Look up salary data from independent sources: this offline briefing has no salary estimate.")
    return tips[:5]


def _talking_points(company: str, pages: list[Page], stack: list[str], github: GitHubData) -> list[str]:
    """What the candidate can bring up, first of all that this is the offline version."""
    points = ["Offline version: this briefing was made without Claude, from public data only."]
    headline = next((p.title for p in pages if p.title.strip()), "")
    if headline:
        points.append(f'How {company} presents itself: "{" ".join(headline.split())[:200]}".')
    if stack:
        points.append(f"Your experience with {_join(stack[:4])}.")
    for repo in sorted(github.repositories, key=lambda r: (-r.stars, r.name))[:2]:
        points.append(f"Their open-source project {repo.name} ({repo.stars} stars), if it relates to your work.")
    return points


def _culture(pages: list[Page]) -> list[str]:
    """Sentences from the site that talk about culture, values or ways of working."""
    sentences = [s for page in pages for s in _sentences(page.content) if _CULTURE_WORDS.search(s)]
    if not sentences:
        return ["The pages read say little about culture: ask your interviewers how the team works day to day."]
    return [f"The site says: {s}" for s in _unique(sentences)[:MAX_CULTURE_INSIGHTS]]


def _smart_questions(role: str, stack: list[str], github: GitHubData) -> list[str]:
    """Questions the candidate can ask, grounded where the data allows."""
    who = f"someone in the {role} role" if role else "someone in this role"
    questions = [
        f"What does success look like for {who} after three months?",
        "How does the team decide what to build next?",
    ]
    if stack:
        questions.append(f"How is {stack[0]} used in the team's day-to-day work?")
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        questions.append(f"How does the team work with open-source projects such as {top.name}?")
    questions.append("What is the biggest challenge the team is facing this year?")
    return questions


def _checklist(company: str, role: str, pages: list[Page], github: GitHubData) -> list[str]:
    """Things to have done before the interview."""
    for_role = f" for {role}" if role else ""
    items = [f"Re-read the job description{for_role} and match each requirement to an example."]
    if pages:
        items.append(f"Review {company}'s website and its main products.")
    if github.repositories:
        items.append(f"Skim {company}'s top GitHub repositories.")
    items += [
        "Prepare three STAR stories and two questions to ask.",
        "Research the salary range from independent sources.",
        "Check the time, place or video link, and test your setup.",
    ]
    return items


def _unique(items: list[str]) -> list[str]:
    """The non-empty items, without case-insensitive duplicates, in their first order."""
    seen: dict[str, str] = {}
    for item in items:
        key = item.strip().casefold()
        if key and key not in seen:
            seen[key] = item.strip()
    return list(seen.values())


def _join(words: list[str]) -> str:
    """Words joined as English: "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _count(n: int, one: str, many: str) -> str:
    """A count with its noun: "1 repository", "3 repositories"."""
    return f"{n} {one if n == 1 else many}"


def _article(word: str) -> str:
    """The article for a word: "an" before a vowel letter, else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"
