"""The batch pages' logic: submitting a list or CSV as one batch, and each company's live progress."""

from __future__ import annotations

import streamlit as st

from core.status import JobStatus
from core.steps import STEPS
from pipeline.batch_input import BadBatch, decode_file, parse_lines
from ui.format import STATUS_ICONS, escape_markdown
from ui.runtime import HISTORY_PAGE, JOB_PAGE
from worker.batch_status import BatchReport, batch_report, batch_zip
from worker.runner import Runner

BATCH_PAGE = "pages/batch.py"
POLL_INTERVAL_S = 1.5  # how often the batch page re-reads its jobs while any still runs, seconds


def submit(run: Runner, errors: st.delta_generator.DeltaGenerator) -> None:
    """Queue the typed list (or the uploaded CSV, when there is one) as one batch and open its page;
    bad lines are listed by number in `errors` and nothing is queued."""
    upload = st.session_state.get("batch_file")
    try:
        text = decode_file(upload.getvalue()) if upload else st.session_state.get("batch_lines", "")
        requests = parse_lines(
            text,
            deep_mode=st.session_state.get("batch_deep", False),
            allow_private=run.settings.allow_private_urls,
            job_description=st.session_state.get("batch_job_description") or None,  # an empty box: no posting
            job_description_url=st.session_state.get("batch_job_description_url"),
        )
    except BadBatch as bad:
        lines = "\n".join(f"- {escape_markdown(str(error))}" for error in bad.errors)
        errors.error(f"Nothing was queued. Fix these lines and submit again:\n\n{lines}", icon=":material/warning:")
        return
    batch, _ = run.submit_batch(requests)
    st.switch_page(BATCH_PAGE, query_params={"batch": batch.id})


def progress_page(run: Runner, batch_id: str) -> None:
    """The batch's counts and each company's progress, polled while any job runs; then the zip."""
    found = batch_report(run.engine, batch_id, run.settings.prices)
    if found is None:
        st.title("Batch not found")
        st.error("There is no batch with this id. It may be a mistyped link.")
        st.page_link(BATCH_PAGE, label="Research several companies", icon=":material/checklist:")
        return
    st.title(f"Batch of {len(found.members)} companies")
    st.page_link(
        HISTORY_PAGE, label="These jobs in History", icon=":material/history:", query_params={"batch": batch_id}
    )
    if found.status == JobStatus.COMPLETED:
        _view(run, found)
        return

    @st.fragment(run_every=POLL_INTERVAL_S)
    def live() -> None:
        fresh = batch_report(run.engine, batch_id, run.settings.prices)
        if fresh is None or fresh.status == JobStatus.COMPLETED:
            st.rerun()  # the whole page redraws in its final state and this fragment stops polling
        _view(run, fresh)

    live()


def _view(run: Runner, found: BatchReport) -> None:
    """Overall progress, the zip of finished briefings, and one line per company."""
    ends = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
    completed, failed, cancelled = (found.count(status) for status in ends)
    total = len(found.members)
    ended = completed + failed + cancelled
    summary = f"{ended} of {total} finished: {completed} completed, {failed} failed"
    if cancelled:
        summary += f", {cancelled} cancelled"
    st.progress(ended / max(1, total), text=summary)
    if completed:
        st.download_button(
            f"Download {completed} briefing{'s' if completed != 1 else ''} (.zip of Markdown)",
            data=lambda: batch_zip(run.engine, found.batch_id, run.settings.prices),  # built when clicked
            file_name=f"briefings-{found.batch_id[:8]}.zip",
            mime="application/zip",
            key="batch_zip",
            icon=":material/download:",
            on_click="ignore",
        )
    for member in found.members:
        job = member.job
        role = f" ({escape_markdown(job.role)})" if job.role else ""
        steps = f"{member.finished_steps}/{len(STEPS)} steps"
        label = f"{escape_markdown(job.company_name)}{role} — {job.status.value} · {steps}"
        st.page_link(JOB_PAGE, label=label, icon=STATUS_ICONS.get(job.status.value, "•"), query_params={"job": job.id})
