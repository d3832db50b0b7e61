"""Reading a batch: one company per line (`Name, https://site, Role`) or a CSV file with those
columns, every line validated before anything is queued, so a batch is queued whole or not at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.errors import InvalidInput
from core.request import ResearchRequest
from pipeline.request import parse_posting, parse_request

MAX_COMPANIES = 50
COLUMNS = ("companyName", "companyUrl", "role")
# Header names a CSV may use for each column (compared lower-cased, without spaces or _ or -).
HEADER_NAMES = {
    "companyName": {"companyname", "company", "name"},
    "companyUrl": {"companyurl", "url", "website", "site"},
    "role": {"role", "targetrole", "position", "title"},
}


@dataclass(frozen=True)
class LineError:
    """What is wrong with one line of the input (line 0: the batch as a whole)."""

    line: int
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"Line {self.line}" if self.line else "The batch"
        return f"{where}: {self.message}"


class BadBatch(InvalidInput):
    """The batch has bad lines; nothing was queued."""

    kind = "invalid_input"

    def __init__(self, errors: list[LineError]) -> None:
        super().__init__("; ".join(str(error) for error in errors), "companies")
        self.errors = errors


def parse_lines(
    text: str,
    *,
    deep_mode: bool = False,
    allow_private: bool = False,
    job_description: object = None,
    job_description_url: object = None,
) -> list[ResearchRequest]:
    """The requests of a pasted list or a CSV file's text; BadBatch lists every bad line by number.

    Rows are read as CSV (quote a name that contains a comma). A first row that names the company
    column (company, name, companyName…) is a header and says the columns' order; blank lines and
    lines starting with # are skipped.
    """
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    order: list[str] = list(COLUMNS)
    errors: list[LineError] = []
    first = next((n for n, row in enumerate(rows) if _meaningful(row)), None)
    if first is not None and "companyName" in [_column(cell) for cell in rows[first]]:
        order = [_column(cell) or cell.strip() for cell in rows[first]]
        unknown = [name for name in order if name not in COLUMNS]
        if unknown:
            errors.append(LineError(first + 1, f"unknown column {unknown[0]!r}: use companyName, companyUrl, role."))
        rows[first] = []
    entries: list[tuple[int, dict]] = []
    for number, row in enumerate(rows, 1):
        if not _meaningful(row):
            continue
        cells = [cell.strip() for cell in row]
        if any(cells[len(order) :]):
            errors.append(LineError(number, "has more columns than Name, Website, Role."))
            continue
        entries.append((number, dict(zip(order, cells, strict=False))))
    return validate(
        [values for _, values in entries],
        deep_mode=deep_mode,
        allow_private=allow_private,
        numbers=[number for number, _ in entries],
        known=errors,
        job_description=job_description,
        job_description_url=job_description_url,
    )


def validate(
    companies: list[dict],
    *,
    deep_mode: bool = False,
    allow_private: bool = False,
    numbers: list[int] | None = None,
    known: list[LineError] | None = None,
    job_description: object = None,
    job_description_url: object = None,
) -> list[ResearchRequest]:
    """Requests from `{companyName, companyUrl?, role?}` dicts; BadBatch lists every bad one.

    `numbers` are the entries' line numbers (default: 1, 2, …); `known` are errors found earlier.
    The job posting (text or URL), when given, is shared by every company and checked once.
    """
    errors = list(known or [])
    try:
        posting, posting_url = parse_posting(job_description, job_description_url, allow_private=allow_private)
    except InvalidInput as error:
        raise BadBatch([LineError(0, error.message, error.field)]) from None
    numbers = numbers or list(range(1, len(companies) + 1))
    requests = []
    for number, company in zip(numbers, companies, strict=True):
        try:
            requests.append(
                parse_request(
                    company.get("companyName"),
                    company.get("companyUrl"),
                    company.get("role"),
                    deep_mode,
                    allow_private=allow_private,
                    job_description=posting,
                    job_description_url=posting_url,
                )
            )
        except InvalidInput as error:
            errors.append(LineError(number, error.message, error.field))
    if not companies and not errors:
        errors.append(LineError(0, "has no companies: give one per line."))
    count = len(companies) + len(known or [])
    if count > MAX_COMPANIES:
        errors.append(LineError(0, f"has {count} companies; at most {MAX_COMPANIES} can be researched at once."))
    if errors:
        raise BadBatch(sorted(errors, key=lambda error: error.line))
    return requests


def _meaningful(row: list[str]) -> bool:
    return any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")


def _column(cell: str) -> str | None:
    key = "".join(ch for ch in cell.lower() if ch.isalnum())
    return next((name for name, aliases in HEADER_NAMES.items() if key in aliases), None)
