"""The seed's results: a verified briefing under the original API's field names and types.

Clients written for the seed's `GET /api/research-status/{id}` read `results` as plain strings
and numbers. Only what passed verification goes in (the Briefing's items are the verified ones;
"Not verified" stays out), and the salary only when a source the job read states it for a year:
the seed's `salaryRange` carries no basis, so a model estimate there would read as a fact. The
citations, sources, "Not verified", totals and the salary's basis are in the status document's
`briefing`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from pipeline.models import Frozen


class SalaryRange(Frozen):
    """A yearly salary range a source states, in whole units of the currency it writes."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)


class SeedResults(Frozen):
    """The briefing in the seed's shape: statements as strings, no citations."""

    company_name: str
    overview: str = Field(description="The verified overview statements, joined.")
    products: list[str]
    tech_stack: list[str]
    salary_range: SalaryRange | None = Field(description="Only a yearly salary a source states; else null.")
    average_salary: float | None = Field(description="The middle of salaryRange; null without one.")
    interview_questions: list[str]
    preparation_tips: list[str]
    key_talking_points: list[str]
    top_challenges: list[str]
    culture_insights: str = Field(description="The verified culture insights, joined.")
    smart_questions: list[str]
    red_flags: list[str]
    prep_checklist: list[str]


def _texts(briefing: Mapping, key: str) -> list[str]:
    return [item["text"] for item in briefing.get(key) or []]


def _prose(statements: list[str]) -> str:
    """Statements as one paragraph, each ending as a sentence does."""
    return " ".join(s if s.rstrip().endswith((".", "!", "?", "…", "。")) else f"{s.rstrip()}." for s in statements)


def seed_results(briefing: Mapping) -> dict:
    """The seed's `results` from a verified briefing's camelCase JSON (its current form)."""
    salary = briefing.get("salary")
    sourced = salary if salary and salary.get("basis") == "source" and salary.get("period") == "year" else None
    return SeedResults(
        company_name=briefing["companyName"],
        overview=_prose(_texts(briefing, "overview")),
        products=_texts(briefing, "products"),
        tech_stack=_texts(briefing, "techStack"),
        salary_range=SalaryRange(min=sourced["min"], max=sourced["max"]) if sourced else None,
        average_salary=(sourced["min"] + sourced["max"]) / 2 if sourced else None,
        interview_questions=_texts(briefing, "interviewQuestions"),
        preparation_tips=_texts(briefing, "preparationTips"),
        key_talking_points=_texts(briefing, "keyTalkingPoints"),
        top_challenges=_texts(briefing, "topChallenges"),
        culture_insights=_prose(_texts(briefing, "cultureInsights")),
        smart_questions=_texts(briefing, "smartQuestions"),
        red_flags=_texts(briefing, "redFlags"),
        prep_checklist=_texts(briefing, "prepChecklist"),
    ).to_json_dict()
