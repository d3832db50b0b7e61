"""Small formatting helpers for the pages: human durations and times, Markdown-safe text."""

from __future__ import annotations

import re
from datetime import datetime

from db.models import elapsed_ms
from pipeline.markdown import defuse_autolinks

STATUS_ICONS = {
    "pending": ":material/schedule:",
    "queued": ":material/schedule:",
    "running": ":material/autorenew:",
    "processing": ":material/autorenew:",
    "succeeded": ":material/check_circle:",
    "completed": ":material/check_circle:",
    "skipped": ":material/skip_next:",
    "failed": ":material/error:",
    "cancelled": ":material/block:",
}


# CommonMark punctuation that can start markup (links, images, emphasis, code, headings, lists,
# tables, raw HTML, & entities), plus what Streamlit adds: ~ strikethrough, $ LaTeX, : colour and
# emoji directives; and = (a "===" line turns the text above it into a heading).
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=&])")


def escape_markdown(text: str) -> str:
    """The text with every Markdown-significant character backslash-escaped, and a word joiner
    where Streamlit would autolink (pipeline.markdown.defuse_autolinks), so st.markdown, st.error
    and friends show it literally: untrusted text (a network error quoting a hostile Location
    header or GitHub `blog`) cannot become a link, an e-mail link, an icon, an image or formatting."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", defuse_autolinks(text))


def human_duration(ms: float | None) -> str:
    """Milliseconds as a person says them: '850 ms', '12.4 s', '2 min 5 s', '1 h 3 min'."""
    if ms is None:
        return "—"
    if ms < 1000:
        return f"{int(ms)} ms"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def human_eta(seconds: float) -> str:
    """A time still to go, as a person says it: '45 s', '1 min 30 s' (never '45.0 s')."""
    whole = max(1, round(seconds))
    return f"{whole} s" if whole < 60 else human_duration(whole * 1000)


def job_duration_ms(started: datetime | None, finished: datetime | None) -> float | None:
    """How long a job ran (or has been running), in milliseconds; None before it started."""
    return None if started is None else elapsed_ms(started, finished)


def when(moment: datetime | None) -> str:
    """A UTC timestamp as 'YYYY-MM-DD HH:MM UTC'."""
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "—"
