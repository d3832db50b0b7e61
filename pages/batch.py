"""Research several companies: a list or a CSV in, one batch out; with ?batch=<id>, its live progress."""

from __future__ import annotations

import streamlit as st

from core.request import MAX_POSTING_CHARS, MAX_URL_CHARS
from pipeline.batch_input import MAX_COMPANIES
from ui import batch_view
from ui.runtime import DEEP_MODE_HELP, runner

batch_id = st.query_params.get("batch")
if batch_id:
    batch_view.progress_page(runner(), batch_id)
    st.stop()

st.title("Research several companies")
st.write(
    f"One company per line: `Name, https://site, Role` (the website and the role are optional), "
    f"or upload a CSV file with those columns. At most {MAX_COMPANIES} companies; each becomes a job "
    "of its own, and the batch's page shows them all."
)

with st.form("batch", border=True):
    st.text_area(
        "Companies",
        key="batch_lines",
        height=180,
        placeholder="Acme Robotics, https://acme.com, Backend Engineer\nGlobex\nInitech, initech.com, Data Engineer",
    )
    st.file_uploader("…or a CSV file (used instead of the list)", type=["csv", "txt"], key="batch_file")
    st.toggle("Deep mode", key="batch_deep", help=DEEP_MODE_HELP)
    with st.expander("Job posting (optional): tailors every company's briefing to the same job"):
        st.text_area("Paste the posting", key="batch_job_description", max_chars=MAX_POSTING_CHARS, height=140)
        st.text_input("…or its web address", key="batch_job_description_url", max_chars=MAX_URL_CHARS)
    submitted = st.form_submit_button("Research all", type="primary")
errors = st.empty()

if submitted:
    batch_view.submit(runner(), errors)

st.caption("Every line is checked first: one bad line and nothing is queued, so fix it and submit again.")
