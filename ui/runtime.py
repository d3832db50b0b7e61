"""What the pages share: the process-wide runner and helpers around the job URL."""

from __future__ import annotations

import streamlit as st

from worker.runner import Runner, get_runner

JOB_PAGE = "pages/job.py"
NEW_PAGE = "pages/new_research.py"
HISTORY_PAGE = "pages/history.py"
DEEP_MODE_HELP = "Also read up to four about, careers, product, engineering and blog pages. Slower."


def runner() -> Runner:
    """The runner shared by every session and the JSON API of this process."""
    return get_runner()


def open_job(job_id: str) -> None:
    """Go to the job page, with the id in the URL so it can be bookmarked."""
    st.switch_page(JOB_PAGE, query_params={"job": job_id})
