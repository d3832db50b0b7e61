"""Analyze-offline: a briefing built from the scraped site and GitHub data alone, without Claude.

Every factual item it writes (overview statement, product, stack item, culture line) carries a
quote copied from a source the job read, and goes through the same verification as Claude's: it
states nothing it cannot quote, and never a salary (a pay range the posting states as data is
added by `pipeline.briefing`). A technology counts only where a sentence
says it is used (or as a language or topic of the organisation's repositories): a name in a
partner list, or "Swift"/"React" opening a sentence, is not enough. A product is something a
sentence names as an offering, never a call to action or navigation ("Read more", "Sign up");
an overview statement is a whole sentence of a page's main content that speaks of the company
(its name, or "we"/"our"), never a banner, a thank-you or a call to action. Questions and tips
are practice material, grounded in the role, the posting's requirements, the stack and the
products that were found. The output depends only on the inputs (no clock, no randomness). Its
word lists are in `pipeline.offline_data`.
"""

from __future__ import annotations

import re

from pipeline.models import Advice, BriefingDraft, Claim, Evidence, GitHubData, Page, RequirementDraft, ScrapedSite
from pipeline.offline_data import (
    CALLS_TO_ACTION,
    GENERIC_HEADINGS,
    GENERIC_PREFIXES,
    GENERIC_QUESTIONS,
    OFFERING_PATTERNS,
    ROLE_QUESTIONS,
    TECH_VOCABULARY,
    USE_CUES,
)
from pipeline.posting import requirements
from pipeline.sources import SourceText, collect_sources
from pipeline.verify import names

# Sources whose sentences may state company facts: its site, its blog, its Wikipedia article. Never
# "discussion": what others say on Hacker News is not a fact about the company.
COMPANY_TEXT_KINDS = ("page", "blog", "wikipedia")
MAX_OVERVIEW_SENTENCES = 3
MIN_SENTENCE_CHARS = 12
MAX_SENTENCE_CHARS = 300
MAX_HEADING_CHARS = 80
MAX_PRODUCTS = 10
MAX_REPO_PRODUCTS = 4
MAX_STACK = 25
MAX_QUESTIONS = 12
MAX_CULTURE_INSIGHTS = 3
MAX_REQUIREMENT_QUESTIONS = 4

_TECH_PATTERNS = tuple((name, re.compile(pattern, re.IGNORECASE)) for name, pattern in TECH_VOCABULARY)
_USE_CUE = re.compile(USE_CUES, re.IGNORECASE)
_OFFERINGS = tuple(re.compile(pattern) for pattern in OFFERING_PATTERNS)
_CULTURE_WORDS = re.compile(
    r"\b(culture|values?|mission|remote|hybrid|diversity|inclusion|inclusive|team(?:s)?|benefits|"
    r"learning|ownership|transparen(?:t|cy))\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
_CALL_TO_ACTION = re.compile(CALLS_TO_ACTION, re.IGNORECASE)
_MARKDOWN_MARK = re.compile(r"^\s*(?:#{1,6}\s+|[-*+]\s+|\d{1,2}[.)]\s+|>\s*)")  # heading, bullet, quote
_SELF = re.compile(r"\b(?:we|our|us|wir|unser\w*|nous|notre|nos)\b", re.IGNORECASE)  # the company speaking


def analyze_offline(
    company_name: str, site: ScrapedSite, github: GitHubData, role: str | None, posting: Page | None = None
) -> BriefingDraft:
    """A briefing draft from the sources alone: every fact quoted, no salary."""
    company = " ".join(company_name.split()) or "the company"
    role_name = " ".join((role or "").split())
    sources = collect_sources(site, github, posting)
    pages = [s for s in sources if s.source.kind in COMPANY_TEXT_KINDS]
    stack = tech_stack(sources, github)
    products = _products(pages, sources, github)
    fits = _role_fit(sources, stack)
    names_of = [claim.text for claim in stack]
    return BriefingDraft(
        overview=_overview(company, pages, sources, github),
        products=products,
        tech_stack=stack,
        interview_questions=_questions(company, role_name, names_of, products, github, fits),
        preparation_tips=_tips(company, role_name, site, pages, names_of, github, fits),
        key_talking_points=_talking_points(company, sources, names_of, github),
        top_challenges=[],
        culture_insights=_culture(pages),
        smart_questions=_smart_questions(role_name, names_of, github),
        red_flags=[],
        prep_checklist=_checklist(company, role_name, pages, github, fits),
        role_fit=fits,
    )


def tech_stack(sources: list[SourceText], github: GitHubData) -> list[Claim]:
    """The organisation's languages and topics (quoted from a repository), then technologies that a
    sentence of a page or repository description says are used, each with that sentence."""
    claims: dict[str, Claim] = {}
    repo_source = {s.source.url: s for s in sources if s.source.kind == "repository"}
    for term in github.tech_stack:
        for repo in github.repositories:
            source = repo_source.get(repo.url)
            quote = _repo_quote(repo.language, repo.topics, term)
            if source and quote and term.casefold() not in claims:
                claims[term.casefold()] = Claim(text=term, evidence=[Evidence(source=source.id, quote=quote)])
    for source in sources:
        if source.source.kind not in (*COMPANY_TEXT_KINDS, "repository"):
            continue
        for sentence in _sentences(source.text):
            if not _USE_CUE.search(sentence):
                continue
            for name, pattern in _TECH_PATTERNS:
                if name.casefold() in claims or not _used_in(pattern, sentence):
                    continue
                claims[name.casefold()] = Claim(text=name, evidence=[Evidence(source=source.id, quote=sentence)])
    return _unique_claims(list(claims.values()))[:MAX_STACK]


def _repo_quote(language: str | None, topics: list[str], term: str) -> str | None:
    """The line of a repository's text that names `term`: its language or one of its topics."""
    if language and language.casefold() == term.casefold():
        return f"Language: {language}"
    return next((topic for topic in topics if topic.casefold() == term.casefold()), None)


def _used_in(pattern: re.Pattern[str], sentence: str) -> bool:
    """Whether the pattern names a technology in the sentence other than as its capitalised first word."""
    return any(match.start() > 0 or match.group()[:1].islower() for match in pattern.finditer(sentence))


def _sentences(text: str) -> list[str]:
    """The text split into whitespace-normalised sentences (and lines) of sensible length.

    A page's text runs its headings and navigation into its prose ("Our stack Our fleet software
    is…"), so the page's own heading lines (two words or more, no final stop) also end a sentence.
    """
    lines = [
        " ".join(_MARKDOWN_MARK.sub("", line).split())
        for line in text.split("\n")
        if line.strip() and not line.lstrip().startswith("|")  # a table row is cells, not sentences
    ]
    headings = sorted(
        {
            line
            for line in lines
            if len(line) <= MAX_HEADING_CHARS and " " in line and not line.endswith((".", "!", "?"))
        },
        key=len,
        reverse=True,
    )
    found = []
    for line in lines:
        pieces = [line]
        for heading in headings:
            pieces = [part for piece in pieces for part in _split_at(piece, heading)]
        for piece in pieces:
            found += [s for s in _SENTENCE_END.split(piece) if MIN_SENTENCE_CHARS <= len(s) <= MAX_SENTENCE_CHARS]
    return found


def _split_at(text: str, heading: str) -> list[str]:
    """The text cut around each occurrence of the heading that a new sentence follows ("Our stack
    Our fleet…"); inside prose ("The Rocket Cloud lets…") the heading is left alone."""
    if text == heading or heading not in text:
        return [text]
    pattern = rf"(?:^|(?<=\s)){re.escape(heading)}(?=\s+[A-Z0-9\"“']|$)"
    parts = []
    for n, chunk in enumerate(re.split(pattern, text)):
        if n:
            parts.append(heading)
        if chunk.strip():
            parts.append(chunk.strip())
    return parts


def _overview(company: str, pages: list[SourceText], sources: list[SourceText], github: GitHubData) -> list[Claim]:
    """What the company says about itself, quoted; then what its GitHub organisation publishes."""
    statements: list[Claim] = []
    for source in pages:
        for sentence in _sentences(source.shown):
            if len(statements) >= MAX_OVERVIEW_SENTENCES:
                break
            if _is_statement(sentence, company) and all(c.text != sentence for c in statements):
                statements.append(_quoted(sentence, source))
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        source = next((s for s in sources if s.source.url == top.url), None)
        if source and top.description.strip():
            org = github.organization or company
            text = f"Its GitHub organisation {org} publishes {top.name}: {' '.join(top.description.split())}"
            statements.append(Claim(text=text, evidence=[Evidence(source=source.id, quote=top.description)]))
    return statements


def _quoted(sentence: str, source: SourceText) -> Claim:
    """A claim that is the sentence itself, quoted from its source."""
    return Claim(text=sentence, evidence=[Evidence(source=source.id, quote=sentence)])


def _products(pages: list[SourceText], sources: list[SourceText], github: GitHubData) -> list[Claim]:
    """Things a sentence names as an offering, then the most starred repositories (open source)."""
    found: list[Claim] = []
    for source in pages:
        for sentence in _sentences(source.shown):
            if _CALL_TO_ACTION.search(sentence):
                continue
            for pattern in _OFFERINGS:
                match = pattern.search(sentence)
                if match and not _is_generic(match.group("name")):
                    found.append(
                        Claim(text=_whole_words(sentence, match), evidence=[Evidence(source=source.id, quote=sentence)])
                    )
                    break
    repo_source = {s.source.url: s for s in sources if s.source.kind == "repository"}
    for repo in sorted(github.repositories, key=lambda r: (-r.stars, r.name))[:MAX_REPO_PRODUCTS]:
        source = repo_source.get(repo.url)
        if source is None:
            continue
        text = f"{repo.name} (open source)" + (
            f": {' '.join(repo.description.split())}" if repo.description.strip() else ""
        )
        found.append(Claim(text=text, evidence=[Evidence(source=source.id, quote=f"Repository: {repo.name}")]))
    return _unique_claims(found)[:MAX_PRODUCTS]


def _is_statement(sentence: str, company: str) -> bool:
    """Whether a sentence says what the company is or does: a whole sentence naming the company
    (or "we"/"our"), not a call to action, a banner or a thank-you."""
    names = [word for word in re.findall(r"\w+", company.casefold()) if len(word) >= 3]
    about = _SELF.search(sentence) or any(re.search(rf"\b{re.escape(n)}\b", sentence.casefold()) for n in names)
    return sentence.endswith((".", "!")) and bool(about) and not _CALL_TO_ACTION.search(sentence)


def _whole_words(sentence: str, match: re.Match[str]) -> str:
    """The offering's name as matched, without a word the match's length limit cut in two."""
    name = match.group("name")
    if match.end("name") < len(sentence) and sentence[match.end("name")].isalnum() and " " in name:
        name = name.rsplit(" ", 1)[0]
    return name.strip(" ,.;:")


def _unique_claims(claims: list[Claim]) -> list[Claim]:
    """The claims without case-insensitive duplicate texts, in their first order."""
    seen: dict[str, Claim] = {}
    for claim in claims:
        key = claim.text.strip().casefold()
        if key and key not in seen:
            seen[key] = claim
    return list(seen.values())


def _role_fit(sources: list[SourceText], stack: list[Claim]) -> list[RequirementDraft]:
    """Each requirement of the posting, matched against the stack found in the company's sources."""
    posting = next((s for s in sources if s.source.kind == "posting"), None)
    if posting is None:
        return []
    fits = []
    for requirement in requirements(posting.text):
        matched = [claim for claim in stack if names(claim.text, requirement)]
        evidence = [e for claim in matched for e in claim.evidence][:4]
        if matched:
            techs = _join([claim.text for claim in matched])
            finding = f"The company's own sources show it uses {techs}."
            question = f"Describe a project where you used {matched[0].text}: what would you do differently today?"
        else:
            finding = ""
            question = f"Tell me about a time you showed this: {requirement.rstrip('.')}."
        fits.append(
            RequirementDraft(requirement=requirement, evidence=evidence, finding=finding, practice_question=question)
        )
    return fits


def _is_generic(heading: str) -> bool:
    """Navigation and section titles ("Careers", "Our stack", "Why join us") are not products."""
    text = heading.lower().strip(" .!:?")
    return text in GENERIC_HEADINGS or text.startswith(GENERIC_PREFIXES)


def _short_product(product: str) -> str:
    """A product entry without its description, for use inside a sentence."""
    return product.split(" (open source)")[0]


def _advice(items: list[str], requirement: int | None = None) -> list[Advice]:
    return [Advice(text=item, requirement=requirement) for item in items]


def _questions(
    company: str, role: str, stack: list[str], products: list[Claim], github: GitHubData, fits: list[RequirementDraft]
) -> list[Advice]:
    """At least five practice questions: the posting's requirements first, then role, stack and products."""
    tailored = [
        Advice(text=f"Practice question: {fit.practice_question}", requirement=n)
        for n, fit in enumerate(fits[:MAX_REQUIREMENT_QUESTIONS], 1)
    ]
    as_role = f"as {_article(role)} {role}" if role else "in this role"
    questions = [f"Why do you want to work at {company} {as_role}?"]
    questions += [
        f"What do you know about {_short_product(p.text)}, and how would you improve it?" for p in products[:2]
    ]
    questions += [f"Describe a project where you used {tech}: what trade-offs did you make?" for tech in stack[:3]]
    questions += list(_role_questions(role))
    if github.repositories:
        top = max(github.repositories, key=lambda r: (r.stars, r.name))
        questions.append(f"If you contributed to {top.name}, what would you look at first, and why?")
    questions += GENERIC_QUESTIONS
    generic = _advice([f"Practice question: {q}" for q in _unique(questions)])
    return (tailored + generic)[:MAX_QUESTIONS]


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
    company: str,
    role: str,
    site: ScrapedSite,
    pages: list[SourceText],
    stack: list[str],
    github: GitHubData,
    fits: list[RequirementDraft],
) -> list[Advice]:
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
        tips.append(f"Refresh the basics of {_join(stack[:3])}, which the sources link to {company}.")
    for_role = f" for {_article(role)} {role} role" if role else ""
    tips.append(f"Prepare three stories in the STAR format (situation, task, action, result){for_role}.")
    tips.append("Look up salary data from independent sources: this offline briefing has no salary figure.")
    advice = _advice(tips[:4] if fits else tips[:5])
    if fits:  # the posting's first requirement gets a tip of its own
        advice.append(Advice(text="Prepare a short story that shows this requirement of the posting.", requirement=1))
    return advice


def _talking_points(company: str, sources: list[SourceText], stack: list[str], github: GitHubData) -> list[Advice]:
    """What the candidate can bring up, first of all that this is the offline version; a point
    that quotes a page title or a repository cites that source."""
    points = _advice(["Offline version: this briefing was made without Claude, from the sources listed below only."])
    titled = (s for s in sources if s.source.kind == "page" and s.source.title.strip() not in ("", s.source.url))
    headline = next(titled, None)  # a page's source title is its URL when the page has no title
    if headline:
        title = " ".join(headline.source.title.split())[:200]
        points.append(Advice(text=f'How {company} presents itself: "{title}".', sources=[headline.id]))
    if stack:
        points += _advice([f"Your experience with {_join(stack[:4])}."])
    repo_source = {s.source.url: s.id for s in sources if s.source.kind == "repository"}
    for repo in sorted(github.repositories, key=lambda r: (-r.stars, r.name))[:2]:
        text = f"Their open-source project {repo.name} ({repo.stars} stars), if it relates to your work."
        points.append(Advice(text=text, sources=[repo_source[repo.url]] if repo.url in repo_source else []))
    return points


def _culture(pages: list[SourceText]) -> list[Claim]:
    """Sentences from the site that talk about culture, values or ways of working, quoted."""
    found = [
        _quoted(s, page)
        for page in pages
        for s in _sentences(page.shown)
        if _CULTURE_WORDS.search(s) and not _CALL_TO_ACTION.search(s)
    ]
    return _unique_claims(found)[:MAX_CULTURE_INSIGHTS]


def _smart_questions(role: str, stack: list[str], github: GitHubData) -> list[Advice]:
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
    return _advice(questions)


def _checklist(
    company: str, role: str, pages: list[SourceText], github: GitHubData, fits: list[RequirementDraft]
) -> list[Advice]:
    """Things to have done before the interview; one line per posting requirement first."""
    tailored = [
        Advice(text="Have one concrete example ready for this requirement of the posting.", requirement=n)
        for n, fit in enumerate(fits[:MAX_REQUIREMENT_QUESTIONS], 1)
    ]
    for_role = f" for {role}" if role else ""
    items = [] if fits else [f"Re-read the job description{for_role} and match each requirement to an example."]
    if pages:
        items.append(f"Review {company}'s website and its main products.")
    if github.repositories:
        items.append(f"Skim {company}'s top GitHub repositories.")
    items += [
        "Prepare three STAR stories and two questions to ask.",
        "Research the salary range from independent sources.",
        "Check the time, place or video link, and test your setup.",
    ]
    return tailored + _advice(items)


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


def _article(word: str) -> str:
    """The article for a word: "an" before a vowel letter, else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"
