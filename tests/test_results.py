"""api.results: the seed's field names and types, built from the verified briefing only."""

from __future__ import annotations

from api.results import seed_results
from pipeline.models import AdviceItem, Briefing, Citation, Item, Salary, Unverified

CITED = [Citation(source="S1", quote="Acme builds reusable rockets")]


def briefing(salary: Salary | None = None) -> dict:
    return Briefing(
        company_name="Acme",
        overview=[Item(text="Acme builds reusable rockets", citations=CITED), Item(text="It flies weekly!")],
        products=[Item(text="Falcon", citations=CITED)],
        culture_insights=[Item(text="Small teams.", citations=CITED)],
        interview_questions=[AdviceItem(text="How do you test flight software?", sources=["S1"])],
        not_verified=[Unverified(section="Products", text="Starship", reason="The quote is not in S1.")],
        salary=salary,
        salary_source=salary.basis if salary else None,
        analysis_mode="claude",
    ).to_json_dict()


def test_statements_are_strings_and_what_failed_the_check_stays_out():
    seed = seed_results(briefing())

    assert seed["overview"] == "Acme builds reusable rockets. It flies weekly!"
    assert seed["cultureInsights"] == "Small teams."
    assert seed["products"] == ["Falcon"] and "Starship" not in str(seed)
    assert seed["interviewQuestions"] == ["How do you test flight software?"]
    assert seed["redFlags"] == [] and seed["techStack"] == []
    assert (seed["salaryRange"], seed["averageSalary"]) == (None, None)


def test_a_yearly_salary_a_source_states_is_the_salary_range():
    sourced = Salary(min=90_000, max=110_000, currency="€", period="year", basis="source", citations=CITED)

    seed = seed_results(briefing(sourced))

    assert (seed["salaryRange"], seed["averageSalary"]) == ({"min": 90_000, "max": 110_000}, 100_000.0)


def test_an_estimate_or_a_salary_of_another_period_is_no_salary_range():
    estimate = Salary(min=90_000, max=110_000, currency="$", basis="estimate", assumptions="role: SRE")
    monthly = Salary(min=5_000, max=6_000, currency="€", period="month", basis="source", citations=CITED)

    for salary in (estimate, monthly):
        seed = seed_results(briefing(salary))
        assert (seed["salaryRange"], seed["averageSalary"]) == (None, None)
