"""History: every job, newest first, filtered by status and company, paged in SQL."""

from __future__ import annotations

import streamlit as st

from core.status import JobStatus
from core.usage import cost_text, describe
from db.grounding import generic_jobs
from db.history import count_jobs, list_jobs
from db.usage import usage_by_job, usage_total
from ui.delete_view import show_flash
from ui.format import STATUS_ICONS, escape_markdown, human_duration, job_duration_ms, when
from ui.runtime import HISTORY_PAGE, JOB_PAGE, NEW_PAGE, runner

PAGE_SIZE = 20

st.title("History")
show_flash()
engine = runner().engine
prices = runner().settings.prices

all_jobs = count_jobs(engine)
if all_jobs == 0:
    st.info("No jobs yet. Your research will be listed here.", icon=":material/history:")
    st.page_link(NEW_PAGE, label="Start a new research", icon=":material/search:")
    st.stop()

filters = st.columns([1, 2])
status_name = filters[0].selectbox(
    "Status",
    ["all"] + [s.value for s in JobStatus],
    key="history_status",
    on_change=lambda: st.session_state.pop("history_cursors", None),
)
query = filters[1].text_input(
    "Company",
    key="history_q",
    placeholder="Filter by company name",
    on_change=lambda: st.session_state.pop("history_cursors", None),
)
status = None if status_name == "all" else JobStatus(status_name)
batch = st.query_params.get("batch")  # set by a batch page's "These jobs in History"
if st.session_state.setdefault("history_batch", batch) != batch:  # another filter: back to page one
    st.session_state.update(history_batch=batch, history_cursors=[None])
if batch:
    st.caption(f"Only the jobs of batch {escape_markdown(batch[:8])}.")
    st.page_link(HISTORY_PAGE, label="Show every job", icon=":material/history:")

# The stack of cursors that led to the page shown: [None] is the newest page.
cursors: list[str | None] = st.session_state.setdefault("history_cursors", [None])
page = list_jobs(engine, status=status, q=query, limit=PAGE_SIZE, cursor=cursors[-1], batch_id=batch)
total = count_jobs(engine, status=status, q=query, batch_id=batch) if status or query or batch else all_jobs

if not page.jobs:
    st.info("No job matches these filters.")
    st.stop()

first = (len(cursors) - 1) * PAGE_SIZE + 1
st.caption(f"Jobs {first}–{first + len(page.jobs) - 1} of {total}, newest first")
generic = generic_jobs(engine, [job.id for job in page.jobs])
together = usage_total(engine, prices, status=status, q=query, batch_id=batch)
which = "this job" if total == 1 else f"these {total} jobs"
st.caption(f"Claude usage of {which}: {escape_markdown(describe(together))}")
usages = usage_by_job(engine, [job.id for job in page.jobs], prices)
for job in page.jobs:
    with st.container(border=True):
        icon = STATUS_ICONS.get(job.status.value, "•")
        st.page_link(JOB_PAGE, label=escape_markdown(job.company_name), icon=icon, query_params={"job": job.id})
        duration = human_duration(job_duration_ms(job.started_at, job.finished_at))
        role = escape_markdown(job.role) if job.role else "No role"
        mark = " · :material/warning: generic: no source could be read" if job.id in generic else ""
        cost = escape_markdown(cost_text(usages[job.id]))
        st.caption(f"{role} · {job.status.value}{mark} · {when(job.created_at)} · {duration} · cost {cost}")

if len(cursors) > 1 or page.next_cursor is not None:  # paging buttons only when there is a page to go to
    nav = st.columns(2)
    if nav[0].button("Newer", key="history_newer", icon=":material/arrow_back:", disabled=len(cursors) == 1):
        cursors.pop()
        st.rerun()
    if nav[1].button("Older", key="history_older", icon=":material/arrow_forward:", disabled=page.next_cursor is None):
        cursors.append(page.next_cursor)
        st.rerun()
