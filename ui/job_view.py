"""Pieces of the job page: the progress of the steps, the briefing, the failure notice."""

from __future__ import annotations

import streamlit as st

from core.status import JobStatus
from core.usage import Usage, describe
from db.models import Job
from pipeline.markdown import Section, load_briefing, markdown_filename, sections, verification_line
from pipeline.pdf import pdf_filename
from ui.format import STATUS_ICONS, escape_markdown, human_duration, human_eta
from worker.documents import markdown_document, pdf_document
from worker.status import JobReport, StepState


def step_lines(steps: tuple[StepState, ...]) -> str:
    """One Markdown line per step: icon, name, state, attempts, time spent, last error or note.

    Errors and notes come from the network (they may quote a page or an API), so they are escaped.
    """
    lines = []
    for step in steps:
        icon = STATUS_ICONS.get(step.status, "•")
        attempts = step.attempts
        parts = [step.status]
        if attempts:
            parts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
            parts.append(human_duration(step.duration_ms))
        line = f"{icon} **{step.label}** — {' · '.join(parts)}"
        note, error = _untrusted(step.note), _untrusted(step.error)
        if note:
            line += f"  \n  _{note}_"
        elif error:
            line += f"  \n  _Last error: {error}_"
        lines.append(f"- {line}")
    return "\n".join(lines)


def _untrusted(text: str | None) -> str:
    """Text from outside (an error quoting a web page or API) as one line of literal Markdown."""
    return escape_markdown(" ".join(str(text or "").split()))


def progress(found: JobReport) -> None:
    """The live view of a queued or running job."""
    eta = f" — about {human_eta(found.remaining_s)} left" if found.remaining_s else ""
    headline = (
        f"Waiting for a free worker{eta}"
        if found.status == JobStatus.QUEUED
        else f"Researching {escape_markdown(found.job.company_name)}…{eta}"
    )
    st.progress(found.finished_steps / len(found.steps), text=headline)
    if found.partial is not None:
        st.markdown(escape_markdown(found.message))  # what Claude is writing, and what is done
    st.markdown(step_lines(found.steps))


# The key of the briefing JSON each section title of pipeline.markdown shows.
_SECTION_KEYS = {
    "Overview": "overview",
    "Role fit": "roleFit",
    "Products": "products",
    "Tech stack": "techStack",
    "Salary": "salary",
    "Interview questions": "interviewQuestions",
    "Preparation tips": "preparationTips",
    "Key talking points": "keyTalkingPoints",
    "Top challenges": "topChallenges",
    "Culture insights": "cultureInsights",
    "Smart questions to ask": "smartQuestions",
    "Red flags": "redFlags",
    "Preparation checklist": "prepChecklist",
}


def partial_briefing(data: dict) -> None:
    """The sections Claude has finished so far (the report's `partial`), verified like the
    final briefing; the others are still being written and are not shown."""
    st.caption("Verified sections so far; the rest is still being written.")
    for section in sections(load_briefing(data), for_page=True):
        if _SECTION_KEYS.get(section.title) in data:
            _section(section)


def _section(section: Section) -> None:
    """One section: its title, its body and its quotes."""
    st.subheader(section.title)
    st.markdown(section.body)
    if section.quotes:
        with st.expander("Quotes", expanded=False):
            st.markdown(section.quotes)


def completed_notice(found: JobReport) -> None:
    """The headline of a completed job: green when grounded in sources, a warning when generic."""
    if (found.briefing or {}).get("grounded") is False:
        st.warning(escape_markdown(found.message), icon=":material/warning:")
    else:
        st.success(escape_markdown(found.message), icon=":material/check_circle:")


def briefing(job: Job, data: dict, usage: Usage) -> None:
    """The completed briefing, section by section, with citations, quotes and its Markdown download."""
    model = load_briefing(data)
    document = markdown_document(job, model, usage)
    markdown_column, pdf_column = st.columns(2)
    markdown_column.download_button(
        "Download Markdown",
        data=document,
        file_name=markdown_filename(job.company_name, job.id),
        mime="text/markdown",
        key="download",
        icon=":material/download:",
        on_click="ignore",
    )
    pdf_column.download_button(
        "Download PDF",
        data=lambda: pdf_document(job, model, usage),  # typeset only when clicked
        file_name=pdf_filename(markdown_filename(job.company_name, job.id)),
        mime="application/pdf",
        key="download_pdf",
        icon=":material/picture_as_pdf:",
        on_click="ignore",
    )
    with st.expander("Copy as Markdown"):
        st.code(document, language="markdown", wrap_lines=True)
    st.caption(verification_line(model))
    if model.incomplete:
        st.warning(f"This briefing is incomplete: {escape_markdown(model.incomplete)}", icon=":material/content_cut:")
    for section in sections(model, for_page=True):
        if section.title.startswith("Not verified"):
            with st.expander(section.title, expanded=False, icon=":material/block:"):
                st.caption("These claims failed the check against the sources (each says why); they are not facts.")
                st.markdown(section.body)
            continue
        _section(section)


def usage(spent: Usage) -> None:
    """What the job's calls to Claude cost, as one caption."""
    st.caption(f"Usage: {escape_markdown(describe(spent))}")


def identity_notice(results: dict, *, website_given: bool) -> str | None:
    """Which company Wikipedia and Wikidata took the name to mean, as one Markdown line; None when none."""
    who = results.get("identifiedAs")
    if not who:
        return None
    described = f" ({escape_markdown(who['description'])})" if who.get("description") else ""
    article = f"[Wikipedia](<{who['wikipediaUrl']}>)"
    if website_given:
        # The article was picked because its official website is on the domain the candidate gave.
        title = escape_markdown(who["title"])
        return f"Read as **{title}**{described} on {article}: its official website is on the domain you gave."
    site = f", website {escape_markdown(who['website'])}" if who.get("website") else ""
    return (
        f"Taken to be **{escape_markdown(who['title'])}**{described}{site}, "
        f"from {article}. Not the company you meant? Research it again with its website."
    )
