"""The job page: live progress while the job runs, then the briefing, or why it failed."""

from __future__ import annotations

import streamlit as st

from core.errors import InvalidInput
from core.status import JobStatus
from pipeline.request import parse_request
from ui import job_view
from ui.delete_view import delete_control
from ui.format import escape_markdown, human_duration, job_duration_ms, when
from ui.runtime import HISTORY_PAGE, NEW_PAGE, open_job, runner
from worker.status import JobReport, report

POLL_INTERVAL_S = 1.5  # how often the page re-reads the job's row while it runs, seconds

job_id = st.query_params.get("job")
if not job_id:
    st.title("Job")
    st.info("No job is selected. Start a new research or pick one from History.")
    st.page_link(NEW_PAGE, label="New research", icon=":material/search:")
    st.page_link(HISTORY_PAGE, label="History", icon=":material/history:")
    st.stop()

run = runner()
engine = run.engine


def current() -> JobReport | None:
    """The job's report, read fresh from the database (or memory, once it is terminal)."""
    return report(engine, job_id, workers=run.settings.workers, prices=run.settings.prices)


found = current()
if found is None:
    st.title("Job not found")
    st.error("There is no job with this id. It may be a mistyped link.")
    st.page_link(HISTORY_PAGE, label="Go to History", icon=":material/history:")
    st.stop()

# What a person or a web page typed is shown as text, never as Markdown.
job = found.job
st.title(escape_markdown(job.company_name))
facts = [f"Role: {escape_markdown(job.role)}" if job.role else "No role given"]
if job.company_url:
    facts.append(escape_markdown(job.company_url))
if job.deep_mode:
    facts.append("deep mode")
st.caption(" · ".join(facts))

if not job.status.is_terminal:

    @st.fragment(run_every=POLL_INTERVAL_S)
    def live() -> None:
        fresh = current()
        if fresh is None or fresh.status.is_terminal:
            st.rerun()  # the whole page redraws in its final state and this fragment stops polling
        job_view.progress(fresh)
        if st.button("Cancel", key="cancel", icon=":material/block:"):
            run.cancel(job_id)
            st.toast("Cancelling: the job stops at its next step.")
        if fresh.partial:
            job_view.partial_briefing(fresh.partial)

    live()
    delete_control(run, job)
    st.stop()

took = human_duration(job_duration_ms(job.started_at, job.finished_at))
st.caption(f"{job.status.value.capitalize()} · started {when(job.created_at)} · took {took}")
job_view.usage(found.usage)
failed = job.status == JobStatus.FAILED

if job.status == JobStatus.COMPLETED:
    job_view.completed_notice(found)
    results = found.briefing or {}
    notice = job_view.identity_notice(results, website_given=bool(job.company_url))
    if notice:
        st.markdown(f":material/travel_explore: {notice}")
    # No website was given: the candidate can correct the company picked, or give the site the scrape lacked.
    if not job.company_url and (notice or not any(s["kind"] == "page" for s in results.get("sources") or [])):
        with st.form("correct_company", border=False):
            website = st.text_input("The company's website", key="corrected_url", placeholder="https://acme.com")
            if st.form_submit_button("Research this website instead", icon=":material/refresh:"):
                try:
                    request = parse_request(
                        job.company_name,
                        website,
                        job.role,
                        job.deep_mode,
                        allow_private=run.settings.allow_private_urls,
                    )
                except InvalidInput as error:
                    st.error(error.message, icon=":material/warning:")
                else:
                    open_job(run.submit(request)[0].id)
    job_view.briefing(job, found.briefing, found.usage)
else:
    st.error(escape_markdown(found.message), icon=":material/error:" if failed else ":material/block:")
    if st.button("Retry", key="retry", type="primary", icon=":material/replay:"):
        open_job(run.retry(job_id).id)

with st.expander("Steps", expanded=failed):  # open: it shows what went wrong
    st.markdown(job_view.step_lines(found.steps))
delete_control(run, job)
