"""The job posting a candidate gives: pasted text checked, a URL read by the safe fetcher and the
same extraction as the company's pages (`pipeline.html`: main content, visible lines, schema.org
JobPosting data and its pay range), and (for the offline analyzer) its requirements taken from the
lists under its requirement headings."""

from __future__ import annotations

import re
import unicodedata
from typing import BinaryIO

import httpx

from core.errors import FetchRefused, InvalidInput, PipelineError
from core.request import MAX_POSTING_CHARS
from pipeline.fetch import FetchPolicy
from pipeline.models import Page
from pipeline.render import read_page, unreadable
from pipeline.sources import POSTING_TITLE

MAX_REQUIREMENTS = 10
MAX_REQUIREMENT_CHARS = 300
MIN_REQUIREMENT_CHARS = 8
MAX_POSTING_FILE_BYTES = 4 * MAX_POSTING_CHARS  # UTF-8 needs at most 4 bytes a character
MAX_CONTROL_SHARE = 0.01  # more control characters than this share of the text: binary, not a posting
PASTED_TITLE = "The job posting (pasted)"
POSTING_UNREADABLE = "The job posting could not be read"

# Headings under which a posting lists what it asks for.
_REQUIREMENT_HEADING = re.compile(
    r"^(?:#+\s*)?(?:requirements?|qualifications?|(?:minimum|preferred|basic) qualifications|"
    r"what you(?:'|’)?ll do|what you will do|you have|you(?:'|’)?ll have|what you bring|you bring|"
    r"what we(?:'|’)?re looking for|what we look for|must[- ]haves?|nice[- ]to[- ]haves?|skills|"
    r"responsibilities|your responsibilities|about you|who you are)\b[^\n]{0,40}$",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*(?:[-*•·▪◦–]|\d{1,2}[.)])\s+(.*\S)\s*$")
_HEADING_LINE = re.compile(r"^\s*(?:#+\s+.*|[^.!?]{2,60}:)\s*$")
# Without list headings, sentences that state a requirement.
_REQUIREMENT_WORDS = re.compile(
    r"\b(experience (?:with|in)|knowledge of|familiar(?:ity)? with|proficien\w+|years of|degree in|"
    r"you have|you will|must have|strong \w+ skills)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def check_posting_text(value: object, field: str = "jobDescription") -> str | None:
    """The pasted posting, line breaks kept; None when absent. InvalidInput when empty, too long or binary."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput("The job posting must be text.", field)
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InvalidInput("The job posting is empty: paste its text, or leave the field out.", field)
    if "\x00" in text or _control_share(text) > MAX_CONTROL_SHARE or text.count("\ufffd") > 3:
        raise InvalidInput("The job posting looks like binary data, not text: paste the posting's words.", field)
    text = "\n".join(" ".join(line.split()) for line in text.strip().split("\n"))
    if len(text) > MAX_POSTING_CHARS:
        raise InvalidInput(
            f"The job posting is too long ({len(text):,} characters; at most {MAX_POSTING_CHARS:,}).", field
        )
    return text


def posting_from_bytes(data: bytes, field: str = "jobDescription") -> str | None:
    """A posting read from a file or stdin: UTF-8 text, checked like pasted text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The job posting file is not UTF-8 text (it looks binary).", field) from None
    return check_posting_text(text, field)


def read_posting_file(path: str, stdin: BinaryIO) -> str | None:
    """The posting in the file at `path` (`-`: stdin), checked like pasted text."""
    try:
        if path == "-":
            data = stdin.read(MAX_POSTING_FILE_BYTES + 1)
        else:
            with open(path, "rb") as file:
                data = file.read(MAX_POSTING_FILE_BYTES + 1)
    except OSError as error:
        raise InvalidInput(f"The job posting file could not be read ({error.strerror}).", "jobDescription") from None
    if len(data) > MAX_POSTING_FILE_BYTES:
        raise InvalidInput(f"The job posting is too long (at most {MAX_POSTING_CHARS:,} characters).", "jobDescription")
    return posting_from_bytes(data)


def _control_share(text: str) -> float:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\t")
    return controls / max(len(text), 1)


def pasted_posting(text: str) -> Page:
    """The pasted posting as a source page (no URL)."""
    return Page(url="", title=PASTED_TITLE, content=text)


def read_posting(url: str, client: httpx.Client, policy: FetchPolicy, *, deadline: float) -> Page:
    """The posting at `url`, read by the same guarded fetcher and extraction as the company's site.
    Errors say that it was the posting; a page with neither text nor posting data is one."""
    try:
        page, _, _ = read_page(url, client, policy, deadline)
    except PipelineError as error:  # reworded in place: its retry_after (a 429's Retry-After) or field stays
        error.args = (f"{POSTING_UNREADABLE}: {error.message}",)
        raise
    if unreadable(page):
        cannot = "running it in a browser gave no text" if policy.render_js else "this server cannot run it"
        raise FetchRefused(
            f"{POSTING_UNREADABLE}: the page at {page.url} builds its text with JavaScript ({cannot}) and "
            "embeds no posting data. Paste the posting's text instead."
        )
    if not (page.main or page.content or page.data).strip():
        raise FetchRefused(f"{POSTING_UNREADABLE}: the page at {page.url} has no readable text.")
    return page.model_copy(update={"title": page.title or POSTING_TITLE})


def requirements(text: str) -> list[str]:
    """The posting's requirements: list items under requirement headings; failing that, every list
    item; failing that, sentences that state a requirement. Verbatim, in order, deduplicated."""
    lines = text.split("\n")
    under_headings: list[str] = []
    listed: list[str] = []
    in_section = False
    for line in lines:
        bullet = _BULLET.match(line)
        if bullet:
            listed.append(bullet.group(1))
            if in_section:
                under_headings.append(bullet.group(1))
        elif line.strip():
            stripped = line.strip().strip("#").strip().rstrip(":").strip()
            if _REQUIREMENT_HEADING.match(stripped):
                in_section = True
            elif _HEADING_LINE.match(line) or len(line.strip()) <= 60:
                in_section = False
    found = under_headings or listed
    if not found:
        flat = " ".join(text.split())
        found = [s for s in _SENTENCE_END.split(flat) if _REQUIREMENT_WORDS.search(s)]
    kept = [r.strip() for r in found if MIN_REQUIREMENT_CHARS <= len(r.strip()) <= MAX_REQUIREMENT_CHARS]
    return list(dict.fromkeys(kept))[:MAX_REQUIREMENTS]
