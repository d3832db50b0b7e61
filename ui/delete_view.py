"""The job page's Delete button: it asks first, and a refusal says which job depends on this one."""

from __future__ import annotations

import streamlit as st

from db.deletion import DeleteRefused
from db.models import Job
from ui.format import escape_markdown
from ui.runtime import HISTORY_PAGE
from worker.runner import Runner

ASKING = "delete_asking"  # session key: the id of the job whose deletion awaits a confirmation
FLASH = "flash"  # session key: a sentence the next page shows once


def delete_control(run: Runner, job: Job) -> None:
    """Delete…, then 'Yes, delete' or 'Keep it'; a deleted job sends the candidate to History."""
    if st.session_state.get(ASKING) != job.id:
        if st.button("Delete…", key="delete", icon=":material/delete:"):
            st.session_state[ASKING] = job.id
            st.rerun()
        return
    running = " It is still running: deleting it cancels it." if not job.status.is_terminal else ""
    st.warning(
        f"Delete the research on {escape_markdown(job.company_name)}, with its briefing and steps? "
        f"This can't be undone.{running}",
        icon=":material/delete:",
    )
    confirm, keep = st.columns(2)
    if confirm.button("Yes, delete", key="delete_confirm", type="primary"):
        st.session_state.pop(ASKING)
        try:
            run.delete(job.id)
        except DeleteRefused as refused:
            st.error(escape_markdown(refused.message))
            return
        st.session_state[FLASH] = f"Deleted the research on {job.company_name}."
        st.switch_page(HISTORY_PAGE)
    if keep.button("Keep it", key="delete_keep"):
        st.session_state.pop(ASKING)
        st.rerun()


def show_flash() -> None:
    """The sentence the previous page left (e.g. after a deletion), once."""
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(escape_markdown(message), icon=":material/check_circle:")
