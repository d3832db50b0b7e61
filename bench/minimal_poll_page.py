"""The yardstick of bench/page_poll.py: a fragment with the job page's live elements and nothing else.

A progress bar with a headline, a Markdown list of four steps and a button, redrawn by the same
`@st.fragment(run_every=…)` interval as pages/job.py, with no database and no app code. With
MINIMAL_FREEZE=1 it freezes the heap once, at its first run, as app.py does at start.
"""

from __future__ import annotations

import gc
import os

import streamlit as st

POLL_INTERVAL_S = 1.5  # the job page's interval, seconds

STEPS = "\n".join(
    f"- ⏳ **{label}** — running · 1 attempt · 2 s"
    for label in ("Scrape website", "Search GitHub", "Analyze with Claude", "Store research")
)


@st.fragment(run_every=POLL_INTERVAL_S)
def live() -> None:
    st.progress(0.5, text="Researching Acme Robotics… — about 30 s left")
    st.markdown(STEPS)
    st.button("Cancel", key="cancel", icon="🚫")


@st.cache_resource
def freeze_once() -> bool:
    gc.collect()
    gc.freeze()
    return True


if os.environ.get("MINIMAL_FREEZE") == "1":
    freeze_once()
st.title("Acme Robotics")
live()
