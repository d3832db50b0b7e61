"""The one renderer of a briefing: the job page shows its sections, the download joins them."""

from __future__ import annotations

import re

LIST_SECTIONS = (
    ("products", "Products"),
    ("techStack", "Tech stack"),
    ("interviewQuestions", "Interview questions"),
    ("preparationTips", "Preparation tips"),
    ("keyTalkingPoints", "Key talking points"),
    ("topChallenges", "Top challenges"),
    ("cultureInsights", "Culture insights"),
    ("smartQuestions", "Smart questions to ask"),
    ("redFlags", "Red flags"),
)
NUMBERED = {"interviewQuestions"}

_HTML = re.compile(r"[<>&]")


def neutralise(text: str) -> str:
    """Text safe to embed in Markdown: raw HTML becomes literal characters, lines are joined."""
    escaped = _HTML.sub(lambda m: {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[m.group()], str(text))
    return " ".join(escaped.split())


def _money(amount: int) -> str:
    return f"${amount:,}"


def salary_markdown(briefing: dict) -> str:
    """The salary section: an estimate with its range and average, or why there is none."""
    salary = briefing.get("salaryRange")
    average = briefing.get("averageSalary")
    if not salary:
        return "_No salary estimate: nothing in the sources supports a figure._"
    text = f"**Estimate:** {_money(salary['min'])} – {_money(salary['max'])} a year"
    if average:
        text += f", average about {_money(average)}"
    return text + ".\n\n_An estimate, not an offer: check current postings for the role and location._"


def sections(briefing: dict) -> list[tuple[str, str]]:
    """(title, Markdown body) for every section of the briefing, in reading order."""
    out = [("Overview", neutralise(briefing.get("overview", "")) or "_Nothing found._")]
    for key, title in LIST_SECTIONS:
        items = [neutralise(item) for item in briefing.get(key) or []]
        if key == "techStack":
            body = ", ".join(f"`{item}`" for item in items)
        elif key in NUMBERED:
            body = "\n".join(f"{n}. {item}" for n, item in enumerate(items, 1))
        else:
            body = "\n".join(f"- {item}" for item in items)
        out.append((title, body or "_Nothing found._"))
        if key == "techStack":
            out.append(("Salary range", salary_markdown(briefing)))
    checklist = "\n".join(f"- [ ] {neutralise(item)}" for item in briefing.get("prepChecklist") or [])
    out.append(("Preparation checklist", checklist or "_Nothing found._"))
    sources = "\n".join(f"- <{url}>" for url in briefing.get("sources") or [] if _is_url(url))
    out.append(("Sources", sources or "_No page or repository was read._"))
    return out


def _is_url(url: str) -> bool:
    return bool(re.fullmatch(r"https?://[^\s<>]+", url))


def render_markdown(
    briefing: dict, *, role: str | None = None, created_at: str | None = None, usage: str | None = None
) -> str:
    """The whole briefing as one Markdown document; `usage` (what the job cost) closes it."""
    company = neutralise(briefing.get("companyName", "the company"))
    lines = [f"# Interview briefing: {company}", ""]
    if role:
        lines.append(f"**Role:** {neutralise(role)}  ")
    if created_at:
        lines.append(f"**Researched:** {created_at}  ")
    mode = "Claude" + (f" ({briefing['model']})" if briefing.get("model") else "")
    if briefing.get("analysisMode") == "offline":
        mode = "the offline analyzer (no Claude; built from the website and GitHub alone)"
    lines += [f"**Written by:** {mode}", ""]
    for title, body in sections(briefing):
        lines += [f"## {title}", "", body, ""]
    if usage:
        lines += ["---", "", f"_Usage: {neutralise(usage)}_", ""]
    return "\n".join(lines).rstrip() + "\n"


def markdown_filename(company_name: str, job_id: str) -> str:
    """A safe, readable download name such as `acme-robotics-briefing-1a2b3c4d.md`."""
    slug = re.sub(r"[^a-z0-9]+", "-", company_name.lower()).strip("-")[:60] or "company"
    return f"{slug}-briefing-{job_id[:8]}.md"
