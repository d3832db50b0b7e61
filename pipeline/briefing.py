"""Finish a briefing: the one place that verifies and cleans a draft before it is stored.

Whatever wrote the draft (Claude or the offline analyzer), the stored briefing:
- numbers as sources exactly the pages, posting, GitHub organisation and repositories the job read;
- shows a factual item only when `pipeline.verify` found its quote in the source it names, and
  lists the others under `notVerified` with the reason;
- keeps a link only if it points to a fetched page, the company's own domain or the GitHub
  organisation that was found;
- carries no raw HTML, normalised whitespace, and strings of bounded length;
- has a salary only when a verified quote states it, or as an estimate labelled with its
  assumptions (never from the offline analyzer), and an estimate only inside sane bounds; a pay
  range the posting states as structured data (`Page.pay`) is the salary, whoever wrote the draft.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

import pydantic

from core.errors import BadModelOutput
from pipeline.models import (
    MAX_QUOTE_CHARS,
    AdviceItem,
    Briefing,
    BriefingDraft,
    Citation,
    GitHubData,
    Item,
    Page,
    ScrapedSite,
    Source,
    Unverified,
)
from pipeline.pay import sourced_salary
from pipeline.sources import collect_sources
from pipeline.verify import verify_draft

MAX_ITEM_CHARS = 600
MAX_SHORT_ITEM_CHARS = 120  # tech stack entries
MAX_TITLE_CHARS = 200  # a source's title
MAX_LINK_PASSES = 5
MIN_SALARY = 10_000
MAX_SALARY = 2_000_000
GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
_LINKED_ELSEWHERE = ("organisation", "repository")  # GitHub links are checked against the organisation

# Elements whose content is never text worth keeping.
_DROP_ELEMENT_RE = re.compile(r"<(script|style|iframe|object|embed|template)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_COMMENT_RE = re.compile(r"<!--.*?(?:-->|$)|<![A-Za-z][^>]*>|<\?.*?\?>", re.S)
# HTML element names: a bare <Name> that is not one of these (List<String>) is kept as text.
_HTML_ELEMENTS = (
    "a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|blockquote|body|br|button|canvas|"
    "caption|cite|code|col|colgroup|data|datalist|dd|del|details|dfn|dialog|div|dl|dt|em|embed|"
    "fieldset|figcaption|figure|font|footer|form|frame|frameset|h[1-6]|head|header|hr|html|i|"
    "iframe|img|input|ins|kbd|label|legend|li|link|main|map|mark|marquee|math|menu|meta|meter|nav|"
    "noscript|object|ol|optgroup|option|output|p|param|picture|pre|progress|q|rp|rt|ruby|s|samp|"
    "script|section|select|slot|small|source|span|strong|style|sub|summary|sup|svg|table|tbody|td|"
    "template|textarea|tfoot|th|thead|time|title|tr|track|u|ul|var|video|wbr|xmp"
)
# A known element, any tag that carries attributes (<x onclick=...>), or any closing tag.
_TAG_RE = re.compile(
    rf"</?(?:(?:{_HTML_ELEMENTS})\b[^<>]*|[A-Za-z][\w:-]*\s+[^<>]*=[^<>]*|[A-Za-z][\w:-]*\s*/)>"
    r"|</[A-Za-z][\w:-]*\s*>",
    re.I,
)
# What is left of a tag that never closed: "<img src=x onerror=..." at the end of a string.
_OPEN_TAG_RE = re.compile(rf"<(?=/?(?:{_HTML_ELEMENTS})\b)", re.I)

# One pass over every link form, so a URL inside a kept markdown link is not seen twice.
_LINK_RE = re.compile(
    r"(?P<md>(?P<bang>!?)\[(?P<text>[^\[\]\n]{0,500})\]"
    r"\(\s*<?(?P<target>(?:[^()\s<>]|\([^()\s<>]*\))*)>?(?:\s+\"[^\"]*\")?\s*\))"
    r"|(?P<auto><(?P<auto_url>(?:https?|ftp|javascript|data|mailto):[^<>\s]*)>)"
    r"|(?P<bare>(?:(?:https?|ftps?|wss?|file)://|www\.)[^\s<>\"'()\[\]]+)",  # even glued to a word
    re.I,
)
_TRAILING_PUNCTUATION = ".,;:!?*_~"
_EMBEDDED_URL_RE = re.compile(r"://|%3a%2f%2f|%3a//", re.I)


def build_briefing(
    draft: BriefingDraft,
    *,
    company_name: str,
    site: ScrapedSite,
    github: GitHubData,
    mode: Literal["claude", "offline"],
    model: str | None,
    posting: Page | None = None,
    slips: list[Unverified] = (),
    incomplete: str | None = None,
) -> Briefing:
    """The stored briefing: the draft verified against its sources, cleaned, its links checked;
    `slips` are items set aside while the reply was read, `incomplete` why sections are missing."""
    sources = collect_sources(site, github, posting)
    verified = verify_draft(draft, sources, github)
    allowed = LinkPolicy(
        fetched=frozenset(s.source.url for s in sources if s.source.kind not in _LINKED_ELSEWHERE and s.source.url),
        company_host=_host(site.url or ""),
        github_org=github.organization,
    )
    facts = {
        name: clean_items(items, allowed, MAX_SHORT_ITEM_CHARS if name == "tech_stack" else MAX_ITEM_CHARS)
        for name, items in verified.facts.items()
    }
    advice = {name: clean_advice(items, allowed) for name, items in verified.advice.items()}
    role_fit = [
        fit.model_copy(
            update={
                "requirement": clean_text(fit.requirement, allowed, MAX_ITEM_CHARS),
                "finding": clean_text(fit.finding, allowed, MAX_ITEM_CHARS),
                "practice_question": clean_text(fit.practice_question, allowed, MAX_ITEM_CHARS),
                "citations": clean_citations(fit.citations, allowed),
            }
        )
        for fit in verified.role_fit
    ]
    not_verified = [
        entry.model_copy(
            update={
                "text": clean_text(entry.text, allowed, MAX_ITEM_CHARS) or "(empty)",
                "reason": clean_text(entry.reason, allowed, MAX_ITEM_CHARS),
                "evidence": [
                    e.model_copy(update={"quote": clean_text(e.quote, allowed, MAX_QUOTE_CHARS)})
                    for e in entry.evidence
                ],
            }
        )
        for entry in [*slips, *verified.not_verified]
    ]
    salary = verified.salary
    posting_id = next((s.id for s in sources if s.source.kind == "posting"), None)
    if posting is not None and posting.pay is not None and posting_id is not None:
        salary = sourced_salary(posting.pay, posting_id)  # the posting's own data beats any reading of it
    if mode == "offline" and salary is not None and salary.basis != "source":
        salary = None  # the offline analyzer never shows a figure no source states
    if salary is not None and salary.basis == "estimate" and not MIN_SALARY <= salary.min <= salary.max <= MAX_SALARY:
        salary = None
    try:
        return Briefing(
            company_name=" ".join(company_name.split()),
            **facts,
            **advice,
            salary=salary,
            salary_source=salary.basis if salary else None,
            role_fit=role_fit,
            not_verified=not_verified,
            verification=verified.verification,
            sources=[clean_source(s.source, allowed) for s in sources],
            unread=[
                clean_text(reason, allowed, MAX_ITEM_CHARS) for reason in (site.extra.unread if site.extra else [])
            ],
            identified_as=site.extra.identity if site.extra else None,
            # A site built by JavaScript that could not be read leaves the briefing ungrounded in it.
            grounded=any(s.source.kind != "posting" for s in sources) and not site.script_built,
            analysis_mode=mode,
            model=model if mode == "claude" else None,
            incomplete=incomplete,
        )
    except pydantic.ValidationError as exc:
        fields = sorted({str(err["loc"][0]) for err in exc.errors() if err["loc"]})
        raise BadModelOutput(
            f"The briefing had too little usable content after cleaning ({', '.join(fields)})."
        ) from None


def clean_source(source: Source, policy: LinkPolicy) -> Source:
    """The source with its title (a page's <title>, which the page's author wrote) cleaned like any text."""
    return source.model_copy(update={"title": clean_text(source.title, policy, MAX_TITLE_CHARS) or source.url or ""})


def clean_items(items: list[Item], policy: LinkPolicy, limit: int) -> list[Item]:
    """Each verified item cleaned, with its quotes; empty items and duplicates dropped."""
    kept: dict[str, Item] = {}
    for item in items:
        text = clean_text(item.text, policy, limit)
        if text and text.casefold() not in kept:
            kept[text.casefold()] = Item(text=text, citations=clean_citations(item.citations, policy))
    return list(kept.values())


def clean_citations(citations: list[Citation], policy: LinkPolicy) -> list[Citation]:
    """The citations with their quotes cleaned like any text, one per source."""
    by_source: dict[str, Citation] = {}
    for citation in citations:
        quote = clean_text(citation.quote, policy, MAX_QUOTE_CHARS)
        if quote and citation.source not in by_source:
            by_source[citation.source] = Citation(source=citation.source, quote=quote)
    return list(by_source.values())


def clean_advice(items: list[AdviceItem], policy: LinkPolicy) -> list[AdviceItem]:
    """Each advice item cleaned; empty items and duplicates dropped."""
    kept: dict[str, AdviceItem] = {}
    for item in items:
        text = clean_text(item.text, policy, MAX_ITEM_CHARS)
        if text and text.casefold() not in kept:
            prepares_for = clean_text(item.prepares_for, policy, MAX_ITEM_CHARS) if item.prepares_for else None
            kept[text.casefold()] = AdviceItem(text=text, sources=item.sources, prepares_for=prepares_for or None)
    return list(kept.values())


class LinkPolicy:
    """Which link targets a briefing may keep: fetched pages, the company's domain, github.com."""

    def __init__(self, fetched: frozenset[str], company_host: str | None, github_org: str | None = None) -> None:
        self.fetched = frozenset(_normal_url(url) for url in fetched)
        self.company_host = company_host
        self.github_org = github_org.lower() if github_org else None

    def allows(self, url: str) -> bool:
        """Whether a link to `url` may stay in the briefing."""
        if url.lower().startswith("www."):
            url = "https://" + url
        if _normal_url(url) in self.fetched:
            return True
        if any(c in url for c in "\\@") or any(ord(c) < 33 for c in url):
            return False  # userinfo and backslashes make browsers and parsers disagree on the host
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            return False
        if _EMBEDDED_URL_RE.search(url.split("://", 1)[1]):
            return False  # a URL inside a URL: the shape of an open redirect
        host = _host(url)
        if not host:
            return False
        if host in GITHUB_HOSTS:  # only the organisation that was found, never any other account
            owner = parts.path.strip("/").split("/")[0].lower()
            return self.github_org is not None and owner == self.github_org
        company = self.company_host
        return bool(company) and (host == company or host.endswith("." + company))


def clean_text(text: str, policy: LinkPolicy, limit: int, *, paragraphs: bool = False) -> str:
    """Text without HTML or disallowed links, whitespace normalised, at most `limit` characters."""
    text = _filter_links(strip_html(text), policy)
    if paragraphs:
        blocks = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
        text = "\n\n".join(block for block in blocks if block)
    else:
        text = " ".join(text.split())
    text = re.sub(r"\s+([.,;:!?])(?=\s|$)", r"\1", text)  # "see ." left by a removed link
    return _cap(text, limit)


def strip_html(text: str) -> str:
    """The text without HTML elements, comments or tags; an unclosed tag is defused."""
    text = _DROP_ELEMENT_RE.sub(" ", text)
    text = _COMMENT_RE.sub(" ", text)
    text = _TAG_RE.sub(" ", text)
    return _OPEN_TAG_RE.sub("‹", text)


def _filter_links(text: str, policy: LinkPolicy) -> str:
    """The text with disallowed links dropped, again until nothing changes ("www." + "[t](...)")."""
    for _ in range(MAX_LINK_PASSES):
        filtered = _LINK_RE.sub(lambda m: _keep_or_drop(m, policy), text)
        if filtered == text:
            return text
        text = filtered
    return _LINK_RE.sub("", text)  # still changing: drop every link left


def _keep_or_drop(match: re.Match[str], policy: LinkPolicy) -> str:
    """A matched link as it stands if allowed; else its text (markdown) or nothing (a bare URL)."""
    if match.group("md"):
        text = _filter_links(match.group("text"), policy)
        if policy.allows(match.group("target")):
            return f"{match.group('bang')}[{text}]({match.group('target')})"
        return text
    if match.group("auto"):
        return match.group("auto") if policy.allows(match.group("auto_url")) else ""
    url = match.group("bare")
    stripped = url.rstrip(_TRAILING_PUNCTUATION)
    tail = url[len(stripped) :]
    return url if policy.allows(stripped) else tail


def _host(url: str) -> str | None:
    """The lower-case host of a URL, without "www." or a trailing dot."""
    try:
        host = urlsplit(url if "//" in url else "//" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    return host[4:] if host.startswith("www.") else host


def _normal_url(url: str) -> str:
    """A URL in the form used to compare it with the fetched pages."""
    return url.strip().rstrip("/").lower()


def _cap(text: str, limit: int) -> str:
    """The text cut at a word boundary to at most `limit` characters, with an ellipsis if cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"
