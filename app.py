"""Entry point: `streamlit run app.py` serves the pages and the JSON API from one process."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import streamlit as st

from api.routes import ROUTES
from server_tuning import FrozenHeap, set_nodelay_on_listening_sockets
from ui import access
from ui.runtime import runner
from worker.runner import get_runner, shutdown_runner


@asynccontextmanager
async def lifespan(_app):
    """Start the runner with the server (jobs left by a dead process resume at once); at shutdown,
    let running jobs reach their next step and hand them back to the queue. The server's socket
    is bound (but not yet served) when this runs, so TCP_NODELAY set here reaches every connection.
    The heap is frozen once the runner is up and kept frozen as it grows (server_tuning.FrozenHeap)."""
    set_nodelay_on_listening_sockets()
    get_runner()
    heap = FrozenHeap().start()
    yield
    heap.stop()
    await asyncio.to_thread(shutdown_runner)


app = st.App("app.py", routes=ROUTES, lifespan=lifespan)

if __name__ == "__main__":
    st.set_page_config(page_title="Interview Prep", page_icon=":material/target:", layout="centered")
    pages = [
        st.Page("pages/new_research.py", title="New research", icon=":material/search:", default=True),
        st.Page("pages/batch.py", title="Research several companies", icon=":material/checklist:", url_path="batch"),
        st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
        st.Page("pages/job.py", title="Job", icon=":material/description:", url_path="job", visibility="hidden"),
    ]
    token = runner().settings.api_token
    if access.signed_in(token):
        st.navigation(pages).run()
    else:
        st.navigation(access.sign_in_pages(token, [page.url_path for page in pages]), position="hidden").run()
