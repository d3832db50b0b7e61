"""Job boards through their public APIs, never scraped: Greenhouse, Lever and Ashby.

    board_posting(url) -> PostingRef | None          a posting URL of one of the three boards
    read_board_posting(ref, reader, apis) -> Page    the posting: text, requirements, pay range
    find_open_roles(name, domain, reader, apis, token=...) -> OpenRoles | None   the company's board

Greenhouse: `GET /v1/boards/{token}/jobs/{id}?pay_transparency=true` (`content` is escaped HTML,
`pay_input_ranges` in cents) and `/v1/boards/{token}/departments` (each department with its jobs,
without their content: the teams without every posting's HTML). Lever: `GET /v0/postings/{site}/{id}?mode=json` and
`/v0/postings/{site}?mode=json`. Ashby: `GET /posting-api/job-board/{board}?includeCompensation=true`
lists every job with its description and compensation; a posting is found in it by id.

A pay range the board gives as data becomes the posting's `pay`, whose quote is a line of the
posting's text ("Pay range: USD 150,000 – 200,000 per year"), so it is verified like any quote.
"""

from __future__ import annotations

import html
import ipaddress
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlsplit

from core.errors import FetchRefused, NotFound, PipelineError
from core.request import MAX_POSTING_CHARS
from pipeline.html import visible_lines
from pipeline.models import OpenRole, OpenRoles, Page, PayRange
from pipeline.posting import POSTING_UNREADABLE
from pipeline.source_reader import Reader, SourceApis

Service = Literal["greenhouse", "lever", "ashby"]
SERVICES: tuple[Service, ...] = ("greenhouse", "lever", "ashby")
MAX_TOKENS = 3  # board names tried per company: each costs one request on each of the three boards
MAX_ROLES = 200
_GREENHOUSE_HOSTS = {"boards.greenhouse.io", "job-boards.greenhouse.io", "job-boards.eu.greenhouse.io"}
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
# Lever's salaryRange.interval and Ashby's component interval, as a period the briefing shows.
_LEVER_PERIODS = {"per-year-salary": "year", "per-month-salary": "month", "per-hour-wage": "hour"}
_ASHBY_PERIODS = {"1 YEAR": "year", "1 MONTH": "month", "1 HOUR": "hour"}
_PERIOD_WORDS = {"year": "per year", "month": "per month", "hour": "per hour"}
_LEGAL_SUFFIX = re.compile(r"\b(inc|llc|ltd|gmbh|corp|corporation|co|sa|sas|plc|ag|bv)\.?$", re.I)


@dataclass(frozen=True)
class PostingRef:
    """A posting on one of the boards: the service, the board's name and the posting's id."""

    service: Service
    token: str
    job_id: str

    @property
    def url(self) -> str:
        """The posting's public URL on the board, the form `board_posting` reads."""
        if self.service == "greenhouse":
            return f"https://boards.greenhouse.io/{self.token}/jobs/{self.job_id}"
        if self.service == "lever":
            return f"https://jobs.lever.co/{self.token}/{self.job_id}"
        return f"https://jobs.ashbyhq.com/{self.token}/{self.job_id}"


def board_posting(url: str) -> PostingRef | None:
    """The board posting at `url` (boards.greenhouse.io/{token}/jobs/{id}, jobs.lever.co/{site}/{id},
    jobs.ashbyhq.com/{board}/{id}), or None when it is not one."""
    try:
        parts = urlsplit(url.strip() if "//" in url else "https://" + url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    segments = [s for s in parts.path.split("/") if s]
    if host in _GREENHOUSE_HOSTS and len(segments) >= 3 and segments[1] == "jobs" and segments[2].isdigit():
        ref = PostingRef("greenhouse", segments[0], segments[2])
    elif host == "jobs.lever.co" and len(segments) >= 2:
        ref = PostingRef("lever", segments[0], segments[1])
    elif host == "jobs.ashbyhq.com" and len(segments) >= 2:
        ref = PostingRef("ashby", segments[0], segments[1])
    else:
        return None
    return ref if _TOKEN.match(ref.token) and _TOKEN.match(ref.job_id) else None


def read_board_posting(ref: PostingRef, reader: Reader, apis: SourceApis) -> Page:
    """The posting through its board's API; errors say that it was the posting."""
    try:
        if ref.service == "greenhouse":
            page = _greenhouse_posting(ref, reader, apis)
        elif ref.service == "lever":
            page = _lever_posting(ref, reader, apis)
        else:
            page = _ashby_posting(ref, reader, apis)
    except PipelineError as error:  # reworded in place: its retry_after stays
        error.args = (f"{POSTING_UNREADABLE}: {error.message}",)
        raise
    if not page.content.strip():
        raise FetchRefused(f"{POSTING_UNREADABLE}: the {ref.service.title()} posting {ref.url} has no text.")
    return page


def _greenhouse_posting(ref: PostingRef, reader: Reader, apis: SourceApis) -> Page:
    data = _object(
        reader.json(f"{apis.greenhouse}/v1/boards/{_q(ref.token)}/jobs/{_q(ref.job_id)}?pay_transparency=true")
    )
    text = visible_lines(html.unescape(str(data.get("content") or "")))
    lines = [_meta_line("Location", (data.get("location") or {}).get("name"))]
    pay: PayRange | None = None
    for pay_range in data.get("pay_input_ranges") or []:
        low, high = _int(pay_range.get("min_cents")), _int(pay_range.get("max_cents"))
        currency = str(pay_range.get("currency_type") or "").strip()[:12]
        if low is None or high is None or not currency:
            continue
        label = " ".join(str(pay_range.get("title") or "").split())[:80]
        line = f"Pay range{f' ({label})' if label else ''}: {currency} {low // 100:,} – {high // 100:,}"
        lines.append(line)
        # Greenhouse gives no interval: the quote names none, so the salary names none either.
        pay = pay or _claim(low // 100, high // 100, currency, None, line)
    return _page(str(data.get("title") or ""), ref.url, [*lines, text], pay)


def _lever_posting(ref: PostingRef, reader: Reader, apis: SourceApis) -> Page:
    data = _object(reader.json(f"{apis.lever}/v0/postings/{_q(ref.token)}/{_q(ref.job_id)}?mode=json"))
    return _lever_page(data, ref)


def _lever_page(data: dict, ref: PostingRef) -> Page:
    categories = data.get("categories") or {}
    lines = [
        _meta_line("Team", categories.get("team")),
        _meta_line("Location", categories.get("location")),
        _meta_line("Commitment", categories.get("commitment")),
        str(data.get("descriptionPlain") or ""),
    ]
    for block in data.get("lists") or []:
        lines.append(" ".join(str(block.get("text") or "").split()))
        items = visible_lines(f"<ul>{block.get('content') or ''}</ul>")
        lines.append(items)
    lines.append(str(data.get("additionalPlain") or ""))
    pay = None
    salary = data.get("salaryRange") or {}
    low, high = _int(salary.get("min")), _int(salary.get("max"))
    currency = str(salary.get("currency") or "").strip()[:12]
    if low is not None and high is not None and currency:
        period = _LEVER_PERIODS.get(str(salary.get("interval") or ""))
        interval = _PERIOD_WORDS.get(period or "", str(salary.get("interval") or "").replace("-", " "))
        line = f"Pay range: {currency} {low:,} – {high:,} {interval}".rstrip()
        lines.insert(0, line)
        if period is not None:  # a week or a one-time amount is in the text, but not a salary we can show
            pay = _claim(low, high, currency, period, line)
    return _page(str(data.get("text") or ""), ref.url, lines, pay)


def _ashby_posting(ref: PostingRef, reader: Reader, apis: SourceApis) -> Page:
    board = _object(reader.json(_ashby_url(apis, ref.token)))
    for job in board.get("jobs") or []:
        if str(job.get("id")) == ref.job_id:
            return _ashby_page(job, ref)
    raise NotFound(f"the Ashby board {ref.token} has no open posting {ref.job_id}.")


def _ashby_page(job: dict, ref: PostingRef) -> Page:
    if job.get("descriptionHtml"):
        text = visible_lines(str(job["descriptionHtml"]))
    else:
        text = str(job.get("descriptionPlain") or "")
    lines = [_meta_line("Team", job.get("team") or job.get("department")), _meta_line("Location", job.get("location"))]
    pay = None
    compensation = job.get("compensation") or {}
    components = list(compensation.get("summaryComponents") or [])
    for tier in compensation.get("compensationTiers") or []:
        components += tier.get("components") or []
    for component in components:
        if component.get("compensationType") != "Salary":
            continue
        low, high = _int(component.get("minValue")), _int(component.get("maxValue"))
        currency = str(component.get("currencyCode") or "").strip()[:12]
        period = _ASHBY_PERIODS.get(str(component.get("interval") or ""))
        if low is None or high is None or not currency or period is None:
            continue
        line = f"Pay range: {currency} {low:,} – {high:,} {_PERIOD_WORDS[period]}"
        lines.append(line)
        pay = _claim(low, high, currency, period, line)
        break
    return _page(str(job.get("title") or ""), ref.url, [*lines, text], pay)


# --- open roles ---------------------------------------------------------------------------------


def board_tokens(company_name: str, domain: str | None) -> list[str]:
    """Board names worth trying, most likely first: the name as one word, hyphenated, the domain's name."""
    words = re.sub(r"[^a-z0-9 ]", "", _LEGAL_SUFFIX.sub("", company_name.strip().lower().rstrip(","))).split()
    tokens = ["".join(words), "-".join(words)]
    if domain and not _is_address(domain):
        tokens.append(domain.lower().removeprefix("www.").split(".")[0])
    return [t for t in dict.fromkeys(tokens) if t and _TOKEN.match(t)][:MAX_TOKENS]


def find_open_roles(
    company_name: str, domain: str | None, reader: Reader, apis: SourceApis, *, known: PostingRef | None = None
) -> OpenRoles | None:
    """The company's open roles on the first board that answers (the posting's board when one is
    known); None when no board has the name. Every (board, name) pair is asked in parallel, once."""
    if known is not None:
        return _roles(known.service, known.token, reader, apis)
    pairs = [(service, token) for token in board_tokens(company_name, domain) for service in SERVICES]
    if not pairs:
        return None
    with ThreadPoolExecutor(max_workers=len(pairs), thread_name_prefix="job-boards") as pool:
        futures = [pool.submit(_roles, service, token, reader, apis) for service, token in pairs]
    errors: list[PipelineError] = []
    for future in futures:  # in the order of likelihood, whatever answered first
        error = future.exception()
        if error is None and future.result() is not None:
            return future.result()
        if isinstance(error, NotFound):
            continue
        if isinstance(error, PipelineError):
            errors.append(error)
        elif error is not None:
            raise error
    if errors:  # no board found, and some could not be asked: that is not "there is none"
        raise errors[0]
    return None


def _roles(service: Service, token: str, reader: Reader, apis: SourceApis) -> OpenRoles | None:
    if service == "greenhouse":
        roles = _greenhouse_roles(token, reader, apis)
        board_url = f"https://boards.greenhouse.io/{token}"
    elif service == "lever":
        data = reader.json(f"{apis.lever}/v0/postings/{_q(token)}?mode=json")
        if not isinstance(data, list):
            raise FetchRefused(f"Lever answered something other than a list of postings for {token}.")
        roles = [
            OpenRole(
                title=_clean(job.get("text")),
                team=_clean((job.get("categories") or {}).get("team")),
                location=_clean((job.get("categories") or {}).get("location")),
                posting_url=PostingRef("lever", token, str(job.get("id"))).url,
            )
            for job in data
            if isinstance(job, dict)
        ]
        board_url = f"https://jobs.lever.co/{token}"
    else:
        data = _object(reader.json(_ashby_url(apis, token)))
        roles = [
            OpenRole(
                title=_clean(job.get("title")),
                team=_clean(job.get("team") or job.get("department")),
                location=_clean(job.get("location")),
                posting_url=PostingRef("ashby", token, str(job.get("id"))).url,
            )
            for job in data.get("jobs") or []
            if job.get("isListed", True)
        ]
        board_url = f"https://jobs.ashbyhq.com/{token}"
    roles = [role for role in roles if role.title][:MAX_ROLES]
    if not roles:
        return None  # an empty board says nothing about the company's hiring
    return OpenRoles(service=service, token=token, board_url=board_url, roles=roles)


def _greenhouse_roles(token: str, reader: Reader, apis: SourceApis) -> list[OpenRole]:
    """The jobs of every department, each once, its teams the departments that list it."""
    data = _object(reader.json(f"{apis.greenhouse}/v1/boards/{_q(token)}/departments"))
    jobs: dict[str, dict] = {}
    teams: dict[str, list[str]] = {}
    for department in data.get("departments") or []:
        if not isinstance(department, dict):
            continue
        for job in department.get("jobs") or []:
            if isinstance(job, dict) and job.get("id") is not None:
                key = str(job["id"])
                jobs.setdefault(key, job)
                teams.setdefault(key, []).append(_clean(department.get("name")))
    return [
        OpenRole(
            title=_clean(job.get("title")),
            team=", ".join(team for team in dict.fromkeys(teams[key]) if team),
            location=_clean((job.get("location") or {}).get("name")),
            posting_url=PostingRef("greenhouse", token, key).url,
        )
        for key, job in jobs.items()
    ]


# --- helpers ------------------------------------------------------------------------------------


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _ashby_url(apis: SourceApis, board: str) -> str:
    return f"{apis.ashby}/posting-api/job-board/{_q(board)}?includeCompensation=true"


def _q(segment: str) -> str:
    return quote(segment, safe="")


def _object(data: object) -> dict:
    if not isinstance(data, dict):
        raise FetchRefused("The job board answered something other than a JSON object.")
    return data


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(value)


def _clean(value: object) -> str:
    return " ".join(str(value or "").split())[:200]


def _meta_line(label: str, value: object) -> str:
    value = _clean(value)
    return f"{label}: {value}" if value else ""


def _claim(low: int, high: int, currency: str, period: str | None, line: str) -> PayRange | None:
    """The board's pay fields as the posting's pay range, quoting the line the page's text states it in."""
    if low > high:
        return None
    return PayRange(min=low, max=high, currency=currency, period=period, quote=line)


def _page(title: str, url: str, parts: list[str], pay: PayRange | None) -> Page:
    content = "\n".join(part.strip() for part in parts if part and part.strip())[:MAX_POSTING_CHARS]
    if pay is not None and pay.quote not in content:
        pay = None  # the pay line was cut off with the text: it could not be verified
    return Page(url=url, title=_clean(title) or "The job posting", content=content, pay=pay)
