"""A pay range a source states as data, turned into the briefing's sourced salary.

    sourced_salary(pay, source_id) -> Salary    currency and period as given, cited to the source

Any reader that finds a structured pay range (schema.org `baseSalary` on a posting page; an
applicant-tracking system's pay fields) puts it on the posting's `Page.pay` with the data as its
quote; `pipeline.briefing` turns it into the salary, for Claude's briefings and offline ones alike.
"""

from __future__ import annotations

from pipeline.models import Citation, PayRange, Salary


def sourced_salary(pay: PayRange, source_id: str) -> Salary:
    """The salary a source states as structured data, its quote being that data."""
    return Salary(
        min=pay.min,
        max=pay.max,
        currency=pay.currency,
        period=pay.period,
        basis="source",
        citations=[Citation(source=source_id, quote=pay.quote)],
    )
