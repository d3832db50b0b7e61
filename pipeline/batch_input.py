"""Reading a batch: one company per line (`Name, https://site, Role`) or a CSV file with those
columns, every line validated before anything is queued, so a batch is queued whole or not at all.
The input is bounded: MAX_FILE_BYTES at most, read no further than MAX_LINES rows or the cap of
MAX_COMPANIES companies, and at most MAX_LISTED bad lines reported."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from core.errors import InvalidInput
from core.request import ResearchRequest
from pipeline.request import parse_posting, parse_request

MAX_COMPANIES = 50
# A file or pasted list larger than this is refused unread: 50 companies at their longest (name
# 100, website 2 048, role 120 characters) take about 115 kB. Streamlit's upload limit
# (server.maxUploadSize = 1 in .streamlit/config.toml, in units of 2**20 bytes) matches it.
MAX_FILE_BYTES = 1024 * 1024
MAX_LINES = 2 * MAX_COMPANIES  # read no further: the cap, a header, and room for blank and # lines
MAX_LISTED = 5  # bad lines listed by number; the others are counted
_AT_MOST = f"at most {MAX_COMPANIES} can be researched at once."
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
    """The requests of a pasted list or a CSV file's text; BadBatch lists the first bad lines by number.

    Rows are read as CSV (quote a name that contains a comma). A first row that names the company
    column (company, name, companyName…) is a header and says the columns' order; blank lines and
    lines starting with # are skipped.
    """
    if len(text) > MAX_FILE_BYTES:
        raise BadBatch([_too_large()])
    rows = _rows(text.lstrip("\ufeff"))
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
    """Requests from `{companyName, companyUrl?, role?}` dicts; BadBatch lists the first MAX_LISTED bad ones.

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
        errors.append(LineError(0, f"has {count} companies; {_AT_MOST}"))
    if errors:
        errors.sort(key=lambda error: error.line)
        listed = errors[:MAX_LISTED]
        if len(errors) > MAX_LISTED:
            listed.append(LineError(0, f"{len(errors) - MAX_LISTED} more have errors; fix the ones above first."))
        raise BadBatch(listed)
    return requests


def decode_file(data: bytes) -> str:
    """An uploaded or named file's bytes as text; BadBatch when it is too large or not UTF-8."""
    if len(data) > MAX_FILE_BYTES:
        raise BadBatch([_too_large()])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadBatch([LineError(0, "the file is not UTF-8 text. Save it as CSV (UTF-8) and try again.")]) from None


def read_file(path: str) -> str:
    """The text of the file at `path`, of which at most MAX_FILE_BYTES (and one more) are read."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise BadBatch([LineError(0, f"the file {path} could not be read ({error.strerror}).")]) from None
    return decode_file(data)


def _rows(text: str) -> list[list[str]]:
    """The CSV rows of `text`, read no further than the cap allows; BadBatch past it, or on a row
    the csv module cannot read (a field over its 131 072-character limit)."""
    rows: list[list[str]] = []
    companies = 0
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            rows.append(row)
            companies += _meaningful(row)
            if companies > MAX_COMPANIES + 1:  # one more than the cap may be the header
                raise BadBatch([LineError(0, f"has more than {MAX_COMPANIES} companies; {_AT_MOST}")])
            if len(rows) > MAX_LINES:
                raise BadBatch([LineError(0, f"has more than {MAX_LINES} lines; {_AT_MOST}")])
    except csv.Error as error:
        raise BadBatch([LineError(len(rows) + 1, f"cannot be read as CSV ({error}).")]) from None
    return rows


def _too_large() -> LineError:
    return LineError(
        0, f"the list or file is larger than {MAX_FILE_BYTES // 2**20} MB; {MAX_COMPANIES} companies fit in far less."
    )


def _meaningful(row: list[str]) -> bool:
    return any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")


def _column(cell: str) -> str | None:
    key = "".join(ch for ch in cell.lower() if ch.isalnum())
    return next((name for name, aliases in HEADER_NAMES.items() if key in aliases), None)
