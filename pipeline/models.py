"""Frozen value objects that flow between the pipeline's steps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_NAME_CHARS = 100
MAX_ROLE_CHARS = 120
MAX_URL_CHARS = 2048


class Frozen(BaseModel):
    """Immutable model that serialises with the original camelCase field names."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json_dict(self) -> dict:
        """The camelCase JSON form, as the API and checkpoints store it."""
        return self.model_dump(mode="json", by_alias=True)


class ResearchRequest(Frozen):
    """What a candidate asked for: a company, maybe its site, maybe a role."""

    company_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    company_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    role: str | None = Field(default=None, max_length=MAX_ROLE_CHARS)
    deep_mode: bool = False


class Page(Frozen):
    """One HTML page the scraper read."""

    url: str
    title: str = ""
    meta_description: str = ""
    headings: list[str] = []
    content: str = ""


class ScrapedSite(Frozen):
    """Output of scrape-website: the home page plus, in deep mode, a few linked pages."""

    url: str | None = None
    title: str = ""
    meta_description: str = ""
    headings: list[str] = []
    content: str = ""
    pages: list[Page] = []
    skipped_reason: str | None = None

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


class SalaryRange(Frozen):
    """A yearly salary estimate in whole currency units."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)


class BriefingDraft(Frozen):
    """The part of the briefing an analyzer writes (the model's structured output)."""

    overview: str = Field(max_length=4000)
    products: list[str] = Field(max_length=20)
    tech_stack: list[str] = Field(max_length=40)
    salary_range: SalaryRange | None = None
    average_salary: int | None = Field(default=None, ge=0)
    interview_questions: list[str] = Field(min_length=5, max_length=20)
    preparation_tips: list[str] = Field(min_length=3, max_length=5)
    key_talking_points: list[str] = Field(max_length=15)
    top_challenges: list[str] = Field(max_length=15)
    culture_insights: list[str] = Field(max_length=15)
    smart_questions: list[str] = Field(max_length=15)
    red_flags: list[str] = Field(max_length=15)
    prep_checklist: list[str] = Field(max_length=20)


class Briefing(BriefingDraft):
    """The stored briefing: the draft plus what the pipeline knows for certain."""

    company_name: str
    sources: list[str] = []
    analysis_mode: Literal["claude", "offline"]
    model: str | None = None


class LlmCall(Frozen):
    """One logged call to the model: what ran, what it cost, how long it took."""

    model: str
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    duration_ms: int
    started_at: str  # ISO 8601, UTC
    stop_reason: str | None = None
