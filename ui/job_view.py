"""Pieces of the job page: the progress of the steps, the briefing, the failure notice."""

from __future__ import annotations

import streamlit as st

from db.models import Job
from pipeline.markdown import markdown_filename, render_markdown, sections
from ui.format import STATUS_ICONS, human_duration, human_eta


def step_lines(steps: list[dict]) -> str:
    """One Markdown line per step: icon, name, state, attempts, time spent, last error."""
    lines = []
    for step in steps:
        icon = STATUS_ICONS.get(step["status"], "•")
        attempts = step["attempts"]
        parts = [step["status"]]
        if attempts:
            parts.append(f"{attempts} attempt{'s' if attempts != 1 else ''}")
            parts.append(human_duration(step["durationMs"]))
        line = f"{icon} **{step['label']}** — {' · '.join(parts)}"
        if step.get("note"):
            line += f"  \n  _{step['note']}_"
        elif step["error"]:
            line += f"  \n  _Last error: {step['error']}_"
        lines.append(f"- {line}")
    return "\n".join(lines)


def progress(status: dict, steps: list[dict]) -> None:
    """The live view of a queued or running job."""
    done, total = (int(n) for n in status["progress"].split("/"))
    remaining = status.get("estimatedSecondsRemaining")
    eta = f" — about {human_eta(remaining)} left" if remaining else ""
    headline = (
        f"Waiting for a free worker{eta}"
        if status["status"] == "queued"
        else f"Researching {status['companyName']}…{eta}"
    )
    st.progress(done / total, text=headline)
    st.markdown(step_lines(steps))


def briefing(job: Job, data: dict, created_at: str) -> None:
    """The completed briefing, section by section, with its Markdown download."""
    document = render_markdown(data, role=job.role, created_at=created_at)
    st.download_button(
        "Download Markdown",
        data=document,
        file_name=markdown_filename(job.company_name, job.id),
        mime="text/markdown",
        key="download",
        icon="⬇️",
        on_click="ignore",
    )
    with st.expander("Copy as Markdown"):
        st.code(document, language="markdown", wrap_lines=True)
    for title, body in sections(data):
        st.subheader(title)
        st.markdown(body)
