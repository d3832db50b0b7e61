"""Frozen value objects that flow between the pipeline's steps."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from core.request import Frozen


class PayRange(Frozen):
    """A pay range a page states as structured data (schema.org `baseSalary`), with that data as read."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)
    currency: str | None = None  # as given (ISO code in schema.org); None when it names none
    period: Literal["year", "month", "week", "day", "hour"] | None = None  # None: no unitText given
    quote: str  # the structured data itself, compact JSON: what a citation of it quotes


class Page(Frozen):
    """One HTML page the scraper read: `content` is all its visible text (one block a line), `main`
    its main content as Markdown, `data` the text of its structured data (JSON-LD, microdata,
    `__NEXT_DATA__`); `script_built` when its markup is a JavaScript shell."""

    url: str
    title: str = ""
    meta_description: str = ""
    headings: list[str] = []
    content: str = ""
    main: str = ""
    data: str = ""
    pay: PayRange | None = None
    script_built: bool = False


class ScrapedSite(Frozen):
    """Output of scrape-website: the home page plus, in deep mode, a few linked pages."""

    url: str | None = None
    title: str = ""
    meta_description: str = ""
    headings: list[str] = []
    content: str = ""
    pages: list[Page] = []
    skipped_reason: str | None = None
    posting: Page | None = None  # the job posting, when the candidate gave its URL
    extra: ExtraSources | None = None  # job board, blog, Wikipedia, discussion: read beside the site
    feeds: list[str] = []  # the RSS or Atom feeds the home page announces
    script_built: bool = False  # the site builds its pages with JavaScript, and it could not be read

    @property
    def fetched_urls(self) -> list[str]:
        """Every page URL actually read, home page first."""
        return [page.url for page in self.pages]

    def pages_or_summary(self) -> list[Page]:
        """The pages read; the site's own fields as one page when the scraper listed none."""
        if self.pages:
            return list(self.pages)
        if self.content or self.title or self.meta_description or self.headings:
            return [
                Page(
                    url=self.url or "",
                    title=self.title,
                    meta_description=self.meta_description,
                    headings=self.headings,
                    content=self.content,
                )
            ]
        return []


class Repository(Frozen):
    """One public GitHub repository of the company's organisation."""

    name: str
    url: str
    description: str = ""
    language: str | None = None
    stars: int = 0
    topics: list[str] = []


class GitHubData(Frozen):
    """Output of search-github: the organisation's top repositories and the stack they show."""

    organization: str | None = None
    homepage: str | None = None
    repositories: list[Repository] = []
    tech_stack: list[str] = []
    warning: str | None = None
    skipped_reason: str | None = None  # GitHub was not asked at all (its rate limit is used up)


MAX_QUOTE_CHARS = 400
MAX_CLAIM_CHARS = 2000  # the draft's bound; cleaning caps items at 600


class Evidence(Frozen):
    """What an analyzer offers as proof of a claim: a source id and a verbatim quote from it."""

    source: str = Field(max_length=40, description="The id of a source, e.g. S2.")
    quote: str = Field(max_length=MAX_CLAIM_CHARS, description="A short verbatim quote from that source.")


class Claim(Frozen):
    """A factual item as an analyzer states it, with its evidence (checked before it is shown)."""

    text: str = Field(max_length=MAX_CLAIM_CHARS)
    evidence: list[Evidence] = Field(default=[], max_length=4)


class Advice(Frozen):
    """An advice item (a question, tip or checklist line); it may cite sources and a requirement."""

    text: str = Field(max_length=MAX_CLAIM_CHARS)
    sources: list[str] = Field(default=[], max_length=4, description="Ids of sources it draws on.")
    requirement: int | None = Field(
        default=None, ge=1, description="The number of the roleFit requirement it prepares for."
    )


class SalaryClaim(Frozen):
    """A salary figure that a source states, with the quote that states it."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)
    currency: str = Field(max_length=12, description="As the source writes it: €, EUR, $, £, CHF …")
    period: Literal["year", "month", "hour"] = "year"
    evidence: list[Evidence] = Field(default=[], max_length=4)


class SalaryEstimate(Frozen):
    """A salary estimate from the model's general knowledge, with the assumptions it makes."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)
    currency: str = Field(max_length=12)
    role: str = Field(max_length=120)
    seniority: str = Field(max_length=60)
    location: str = Field(max_length=120)


class RequirementDraft(Frozen):
    """One requirement of the job posting, quoted from it, with company evidence and a question."""

    requirement: str = Field(max_length=MAX_CLAIM_CHARS, description="Quoted verbatim from the posting.")
    evidence: list[Evidence] = Field(default=[], max_length=4, description="Company sources that bear on it.")
    finding: str = Field(default="", max_length=MAX_CLAIM_CHARS, description="What those sources show about it.")
    practice_question: str = Field(max_length=MAX_CLAIM_CHARS)


class BriefingDraft(Frozen):
    """The part of the briefing an analyzer writes (the model's structured output)."""

    overview: list[Claim] = Field(default=[], max_length=8)
    products: list[Claim] = Field(default=[], max_length=20)
    tech_stack: list[Claim] = Field(default=[], max_length=40)
    salary: SalaryClaim | None = None
    salary_estimate: SalaryEstimate | None = None
    # Every section may be missing or short (a reply cut off, a part that failed): empty by default.
    interview_questions: list[Advice] = Field(default=[], max_length=20)
    preparation_tips: list[Advice] = Field(default=[], max_length=5)
    key_talking_points: list[Advice] = Field(default=[], max_length=15)
    top_challenges: list[Claim] = Field(default=[], max_length=15)
    culture_insights: list[Claim] = Field(default=[], max_length=15)
    smart_questions: list[Advice] = Field(default=[], max_length=15)
    red_flags: list[Claim] = Field(default=[], max_length=15)
    prep_checklist: list[Advice] = Field(default=[], max_length=20)
    role_fit: list[RequirementDraft] = Field(default=[], max_length=15)


class Source(Frozen):
    """Something this job read, with the stable id (S1, S2, …) that citations use."""

    id: str
    kind: Literal["page", "organisation", "repository", "posting", "job-board", "blog", "wikipedia", "discussion"]
    url: str | None = None
    title: str = ""


class Citation(Frozen):
    """A verified quote: it occurs in the text the job read from this source."""

    source: str
    quote: str


class Item(Frozen):
    """A factual item that passed verification, with its citations."""

    text: str
    citations: list[Citation] = []


class AdviceItem(Frozen):
    """An advice item as shown: its cited sources and the requirement it prepares for."""

    text: str
    sources: list[str] = []
    prepares_for: str | None = None


class Unverified(Frozen):
    """A claim that failed verification and is not shown as fact, with the reason."""

    section: str
    text: str
    reason: str
    evidence: list[Evidence] = []


class Salary(Frozen):
    """A yearly (or monthly, hourly) range: stated by a source, or a labelled model estimate."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)
    currency: str | None = None  # as written in the source; None when it names none
    period: Literal["year", "month", "week", "day", "hour"] | None = "year"  # sourced: None when none is named
    basis: Literal["source", "estimate"]
    citations: list[Citation] = []
    assumptions: str | None = None  # estimates only: role, seniority, location


class RoleFit(Frozen):
    """One requirement of the posting, what the company's sources show about it, and practice."""

    requirement: str
    requirement_citation: Citation | None = None  # the quote in the posting
    finding: str = ""  # empty: no evidence in the sources
    citations: list[Citation] = []
    practice_question: str


class Verification(Frozen):
    """How many factual claims were made, verified and dropped."""

    claims: int = 0
    verified: int = 0
    dropped: int = 0


class Briefing(Frozen):
    """The stored briefing: verified facts with citations, advice, and what failed verification."""

    company_name: str
    overview: list[Item] = []
    products: list[Item] = []
    tech_stack: list[Item] = []
    salary: Salary | None = None
    salary_source: Literal["source", "estimate"] | None = None
    interview_questions: list[AdviceItem] = []
    preparation_tips: list[AdviceItem] = []
    key_talking_points: list[AdviceItem] = []
    top_challenges: list[Item] = []
    culture_insights: list[Item] = []
    smart_questions: list[AdviceItem] = []
    red_flags: list[Item] = []
    prep_checklist: list[AdviceItem] = []
    role_fit: list[RoleFit] = []
    not_verified: list[Unverified] = []
    verification: Verification = Verification()
    sources: list[Source] = []
    unread: list[str] = []  # the keyless sources that could not be read, and why
    identified_as: CompanyIdentity | None = None  # the company Wikipedia and Wikidata took the name to mean
    grounded: bool = False
    analysis_mode: Literal["claude", "offline"]
    model: str | None = None
    incomplete: str | None = None  # why sections the model was asked for are missing (its reply cut off…)


# --- The keyless sources read beside the site (pipeline/research_sources.py) --------------------


class OpenRole(Frozen):
    """One open role on the company's job board."""

    title: str
    team: str = ""
    location: str = ""
    posting_url: str  # a board posting URL that pipeline.job_boards reads through the board's API


class OpenRoles(Frozen):
    """The company's job board and the roles open on it."""

    service: Literal["greenhouse", "lever", "ashby"]
    token: str  # the board's name on that service
    board_url: str  # the public board page
    roles: list[OpenRole] = []


class BlogPost(Frozen):
    """One post of the company's blog feed; `text` is the post's page, read in deep mode."""

    title: str
    url: str
    published: str = ""  # ISO 8601 date, when the feed gives one
    summary: str = ""
    text: str = ""


class Blog(Frozen):
    """The feed the company's site announces, and its newest posts."""

    feed_url: str
    title: str = ""
    posts: list[BlogPost] = []


class CompanyIdentity(Frozen):
    """Which company the name was taken to be: its Wikipedia article and official website."""

    title: str
    description: str = ""
    summary: str = ""  # the article's lead as plain text (TextExtracts)
    wikipedia_url: str
    wikidata_id: str | None = None
    website: str | None = None  # Wikidata's official website (P856)


class Story(Frozen):
    """A Hacker News story about the company: third-party discussion, not company fact."""

    title: str
    url: str  # the discussion on news.ycombinator.com
    link: str | None = None  # what the story links to
    points: int = 0
    comments: int = 0
    created_at: str = ""  # ISO 8601


class Identified(Frozen):
    """identify-company's output: the company the name was taken to be, if any article fits."""

    identity: CompanyIdentity | None = None
    skipped_reason: str | None = None  # no article fits: the step is shown as skipped, with this
    unread: str | None = None  # Wikipedia could not be read (never checkpointed: the step failed)


class ExtraSources(Frozen):
    """What the job read beside the site and GitHub, and what it could not read."""

    open_roles: OpenRoles | None = None
    blog: Blog | None = None
    identity: CompanyIdentity | None = None
    stories: list[Story] = []
    unread: list[str] = []  # one sentence per source that could not be read
