"""The one renderer of a briefing: the job page shows its sections, the download joins them.

Rendered from the `Briefing` model. A verified item carries citation markers that point into the
numbered source list: on the page a marker `[1]` links to the source with the quote as its
tooltip (plain `[1]` for a source without a web address, such as a pasted posting); in the
download it is a standard footnote `[^1]`. Each section lists its quotes, so a
quote can be read in both. Claims that failed verification come last, under "Not verified".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic.alias_generators import to_snake

from pipeline.models import AdviceItem, Briefing, Citation, Item, Salary, Source, Unverified, Verification
from pipeline.sources import KIND_GROUPS
from pipeline.verify import normalise

NOTHING = "_Nothing found._"
NO_SALARY = "_No salary figure: no source read for this job states one, and there is no estimate._"
THIRD_PARTY_LABEL = " _(third-party discussion)_"  # after an item that draws on what others say

_HTML = re.compile(r"[<>&]")
# Markdown that untrusted text (a quote, a title, a model's claim) could carry: links, images and
# footnote markers ([ ] ^), emphasis, code, tables, strikethrough, Streamlit's $ LaTeX; and a block
# marker at its start (heading, quote, list). Lighter than ui.format.escape_markdown so that the
# downloaded Markdown stays readable as plain text.
_INLINE = re.compile(r"([\\`*_\[\]~$|^])")
WORD_JOINER = "\u2060"  # invisible, and no word break either
# Where Streamlit's Markdown would start a link, an icon, an emoji or a colour in plain text: an
# e-mail address's @, the : of "http://" or of ":red[", ":material/home:", ":smile:", and "www.".
# GFM autolinks URLs and e-mail addresses after backslash escapes are resolved, and Streamlit reads
# ":material/" before parsing at all, so a backslash stops none of them; a word joiner does.
_AUTOLINK = re.compile(r"(?<=[\w.+-])(?=@[\w-])|(?<=:)(?=[a-z/])|(?<=\bwww)(?=\.)", re.IGNORECASE)
_BLOCK_START = re.compile(r"^(\d+)([.)])|^([#>+=-])")


@dataclass(frozen=True)
class Section:
    """One section of the briefing: its title, its Markdown body and the quotes behind it."""

    title: str
    body: str
    quotes: str = ""  # a Markdown list: [n] “quote”, one line per citation


def _plain(text: str) -> str:
    """Text with raw HTML as literal characters and its lines joined."""
    escaped = _HTML.sub(lambda m: {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[m.group()], str(text))
    return " ".join(escaped.split())


def literal(text: str) -> str:
    """Text safe to embed in Markdown: shown literally, never a link, footnote, heading or HTML."""
    escaped = _INLINE.sub(r"\\\1", defuse_autolinks(_plain(text)))
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)


def defuse_autolinks(text: str) -> str:
    """The text with a word joiner wherever Streamlit's Markdown would turn plain text into a link
    (a URL, an e-mail address), an icon, an emoji or coloured text."""
    return _AUTOLINK.sub(WORD_JOINER, text)


def load_briefing(data: Briefing | dict) -> Briefing:
    """The briefing model from its stored JSON form (or the model itself); a briefing stored before
    verification existed is read with every item unverified, so nothing in it is shown as fact."""
    if isinstance(data, Briefing):
        return data
    return _from_unverified(data) if _is_old(data) else Briefing.model_validate(data)


def current_form(data: dict) -> dict:
    """A stored briefing's JSON in the current format: one stored before verification existed is
    converted (see `load_briefing`), so the API never serves its facts as if they were checked."""
    return _from_unverified(data).to_json_dict() if _is_old(data) else data


def _is_old(data: dict) -> bool:
    """Whether a stored briefing predates verification (its overview was one string)."""
    return isinstance(data.get("overview"), str)


_OLD_FACTS = {
    "overview": "Overview",
    "products": "Products",
    "techStack": "Tech stack",
    "topChallenges": "Top challenges",
    "cultureInsights": "Culture insights",
    "redFlags": "Red flags",
}
_OLD_ADVICE = ("interviewQuestions", "preparationTips", "keyTalkingPoints", "smartQuestions", "prepChecklist")


def _from_unverified(data: dict) -> Briefing:
    """A briefing of the format without citations: its facts listed as not verified, its advice kept."""
    facts = [
        Unverified(section=title, text=str(text), reason="Written before facts were checked against their sources.")
        for key, title in _OLD_FACTS.items()
        for text in ([data[key]] if isinstance(data.get(key), str) else data.get(key) or [])
        if str(text).strip()
    ]
    urls = [url for url in data.get("sources") or [] if isinstance(url, str)]
    return Briefing(
        company_name=str(data.get("companyName", "")),
        **{to_snake(key): [AdviceItem(text=str(t)) for t in data.get(key) or []] for key in _OLD_ADVICE},
        not_verified=facts,
        verification=Verification(claims=len(facts), verified=0, dropped=len(facts)),
        sources=[
            Source(id=f"S{n}", kind="repository" if "//github.com/" in url else "page", url=url, title=url)
            for n, url in enumerate(urls, 1)
        ],
        grounded=bool(urls),
        analysis_mode=data.get("analysisMode", "claude"),
        model=data.get("model"),
    )


class _Renderer:
    """Renders one briefing for the page (`for_page`) or for the download."""

    def __init__(self, briefing: Briefing, *, for_page: bool) -> None:
        self.briefing = briefing
        self.for_page = for_page
        self.sources = {source.id: source for source in briefing.sources}

    def marker(self, citation: Citation) -> str:
        """A citation marker: a linked [n] with the quote as tooltip (page), or a footnote [^n]."""
        number = _number(citation.source)
        if not self.for_page:
            return f"[^{number}]"
        source = self.sources.get(citation.source)
        quote = _plain(citation.quote).replace("\\", "\\\\").replace('"', '\\"')
        if source and source.url and _is_url(source.url):
            return f'[\\[{number}\\]](<{source.url}> "{quote}")'
        return f"\\[{number}\\]"

    def markers(self, citations: list[Citation]) -> str:
        """The item's markers, then a label when it draws on what others say (a `discussion` source)."""
        return "".join(self.marker(c) for c in citations) + self.third_party([c.source for c in citations])

    def third_party(self, source_ids: list[str]) -> str:
        """THIRD_PARTY_LABEL when one of these sources is a discussion, else nothing."""
        cited = (self.sources.get(sid) for sid in source_ids)
        return THIRD_PARTY_LABEL if any(s is not None and s.kind == "discussion" for s in cited) else ""

    def quotes(self, items: list[tuple[str, list[Citation]]]) -> str:
        """The quotes behind a section's items, one line each."""
        lines = []
        for text, citations in items:
            for citation in citations:
                about = "" if normalise(text) == normalise(citation.quote) else f" — {literal(text)}"
                lines.append(f"- \\[{_number(citation.source)}\\] “{literal(citation.quote)}”{about}")
        return "\n".join(lines)

    def facts(self, title: str, items: list[Item], *, inline: bool = False) -> Section:
        quotes = self.quotes([(item.text, item.citations) for item in items])
        if inline:
            body = ", ".join(f"{literal(item.text)}{self.markers(item.citations)}" for item in items)
        else:
            body = "\n".join(f"- {literal(item.text)}{self.markers(item.citations)}" for item in items)
        return Section(title, body or NOTHING, quotes)

    def advice(
        self, title: str, items: list[AdviceItem], *, numbered: bool = False, checklist: bool = False
    ) -> Section:
        lines = []
        for n, item in enumerate(items, 1):
            bullet = f"{n}." if numbered else "- [ ]" if checklist else "-"
            cited = self.markers([Citation(source=sid, quote="") for sid in item.sources])
            prepares = f" _(prepares for: “{literal(item.prepares_for)}”)_" if item.prepares_for else ""
            lines.append(f"{bullet} {literal(item.text)}{cited}{prepares}")
        return Section(title, "\n".join(lines) or NOTHING)

    def salary(self) -> Section:
        salary = self.briefing.salary
        if salary is None:
            return Section("Salary", NO_SALARY)
        figures = _figures(salary)
        if salary.basis == "source":
            body = f"**Stated by a source:** {figures}{self.markers(salary.citations)}"
            quotes = self.quotes([("salary", salary.citations)])
            return Section("Salary", body, quotes)
        body = (
            f"**Model estimate:** {figures}.\n\n_An estimate from the model's general knowledge: no source read "
            f"for this job states it. It assumes {literal(salary.assumptions or 'a typical role')}._"
        )
        return Section("Salary", body)

    def role_fit(self) -> Section | None:
        fits = self.briefing.role_fit
        if not fits:
            return None
        blocks, quoted = [], []
        for n, fit in enumerate(fits, 1):
            said = self.marker(fit.requirement_citation) if fit.requirement_citation else ""
            lines = [f"{n}. **“{literal(fit.requirement)}”**{said}"]
            if fit.finding and fit.citations:
                lines.append(f"   - What the sources show: {literal(fit.finding)}{self.markers(fit.citations)}")
                quoted.append((fit.finding, fit.citations))
            else:
                lines.append("   - No evidence in the sources.")
            lines.append(f"   - Practice: {literal(fit.practice_question)}")
            blocks.append("\n".join(lines))
        return Section("Role fit", "\n".join(blocks), self.quotes(quoted))

    def source_list(self) -> Section:
        """The sources grouped by kind (company site, posting, job board, blog, GitHub, Wikipedia,
        discussion), each under its number; then what could not be read."""
        groups: dict[str, list[str]] = {heading: [] for heading in KIND_GROUPS.values()}
        for source in self.briefing.sources:
            number = _number(source.id)
            title = literal(source.title) or source.kind
            link = f"[{title}](<{source.url}>)" if source.url and _is_url(source.url) else title
            groups[KIND_GROUPS[source.kind]].append(f"- {number}. {link} — {_KIND[source.kind]}")
        blocks = [f"**{heading}**\n\n" + "\n".join(lines) for heading, lines in groups.items() if lines]
        if self.briefing.unread:
            blocks.append("**Could not be read**\n\n" + "\n".join(f"- {literal(r)}" for r in self.briefing.unread))
        return Section("Sources", "\n\n".join(blocks) or "_No page or repository was read._")

    def not_verified(self) -> Section | None:
        entries = self.briefing.not_verified
        if not entries:
            return None
        lines = [
            f"- **{literal(entry.section)}:** {literal(entry.text)} — _{literal(entry.reason)}_" for entry in entries
        ]
        return Section(f"Not verified ({len(entries)})", "\n".join(lines))

    def sections(self) -> list[Section]:
        b = self.briefing
        overview = " ".join(f"{literal(item.text)}{self.markers(item.citations)}" for item in b.overview)
        out = [Section("Overview", overview or NOTHING, self.quotes([(i.text, i.citations) for i in b.overview]))]
        fit = self.role_fit()
        if fit:
            out.append(fit)
        out.append(self.facts("Products", b.products))
        out.append(self.facts("Tech stack", b.tech_stack, inline=True))
        out.append(self.salary())
        out.append(self.advice("Interview questions", b.interview_questions, numbered=True))
        out.append(self.advice("Preparation tips", b.preparation_tips))
        out.append(self.advice("Key talking points", b.key_talking_points))
        out.append(self.facts("Top challenges", b.top_challenges))
        out.append(self.facts("Culture insights", b.culture_insights))
        out.append(self.advice("Smart questions to ask", b.smart_questions))
        out.append(self.facts("Red flags", b.red_flags))
        out.append(self.advice("Preparation checklist", b.prep_checklist, checklist=True))
        out.append(self.source_list())
        return out


_KIND = {
    "page": "web page",
    "posting": "job posting",
    "organisation": "GitHub organisation",
    "repository": "GitHub repository",
    "job-board": "open roles on the job board",
    "blog": "blog post",
    "wikipedia": "Wikipedia article",
    "discussion": "third-party discussion, not company fact",
}


def _number(source_id: str) -> str:
    """The marker number of a source id: S3 → 3."""
    return source_id[1:] if source_id[:1] == "S" and source_id[1:].isdigit() else literal(source_id)


def _figures(salary: Salary) -> str:
    currency = literal(salary.currency) if salary.currency else None
    amount = f"{salary.min:,} – {salary.max:,}" if salary.min != salary.max else f"{salary.min:,}"
    text = f"{currency} {amount}" if currency else amount
    suffix = "" if currency else " (no currency recognised in the quote)"
    period = f" a {salary.period}" if salary.period else " (the source states no period)"
    return f"{text}{period}{suffix}"


def sections(briefing: Briefing | dict, *, for_page: bool = True) -> list[Section]:
    """Every section of the briefing in reading order (Not verified last, when there is any)."""
    renderer = _Renderer(load_briefing(briefing), for_page=for_page)
    out = renderer.sections()
    unverified = renderer.not_verified()
    return out + [unverified] if unverified else out


def banner(briefing: Briefing | dict) -> str | None:
    """The warning a briefing grounded in no source must carry, or None."""
    b = load_briefing(briefing)
    if b.grounded:
        return None
    return (
        "This briefing is generic: no page or repository could be read for this company, "
        "so it states nothing about the company as fact."
    )


def verification_line(briefing: Briefing) -> str:
    """One line with the totals of verification."""
    v = briefing.verification
    return f"**Checked against the sources:** {v.verified} of {v.claims} claims verified, {v.dropped} not verified."


def render_markdown(
    briefing: Briefing | dict, *, role: str | None = None, created_at: str | None = None, usage: str | None = None
) -> str:
    """The whole briefing as one Markdown document, with standard footnotes for its citations;
    `usage` (what the job cost) closes the text before the footnotes."""
    model = load_briefing(briefing)
    company = literal(model.company_name or "the company")
    lines = [f"# Interview briefing: {company}", ""]
    if role:
        lines.append(f"**Role:** {literal(role)}  ")
    if created_at:
        lines.append(f"**Researched:** {created_at}  ")
    mode = "Claude" + (f" ({literal(model.model)})" if model.model else "")
    if model.analysis_mode == "offline":
        mode = "the offline analyzer (no Claude; built from the website and GitHub alone)"
    lines += [f"**Written by:** {mode}  ", verification_line(model), ""]
    warning = banner(model)
    if warning:
        lines += [f"> **Warning:** {warning}", ""]
    if model.incomplete:
        lines += [f"> **Incomplete:** {literal(model.incomplete)}", ""]
    for section in sections(model, for_page=False):
        lines += [f"## {section.title}", "", section.body, ""]
        if section.quotes:
            lines += ["Quotes:", "", section.quotes, ""]
    if usage:
        lines += ["---", "", f"_Usage: {literal(usage)}_", ""]
    footnotes = [
        f"[^{_number(s.id)}]: {literal(s.title) or s.kind}" + (f", <{s.url}>" if s.url and _is_url(s.url) else "")
        for s in model.sources
    ]
    if footnotes:
        lines += footnotes
    return "\n".join(lines).rstrip() + "\n"


def _is_url(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s<>]+", url))


def markdown_filename(company_name: str, job_id: str) -> str:
    """A safe, readable download name such as `acme-robotics-briefing-1a2b3c4d.md`."""
    slug = re.sub(r"[^a-z0-9]+", "-", company_name.lower()).strip("-")[:60] or "company"
    return f"{slug}-briefing-{job_id[:8]}.md"
