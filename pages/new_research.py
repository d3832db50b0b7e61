"""New research: the form a candidate fills in; submitting queues a job and opens its page."""

from __future__ import annotations

import streamlit as st

from core.errors import InvalidInput, PipelineError
from core.request import MAX_NAME_CHARS, MAX_POSTING_CHARS, MAX_ROLE_CHARS, MAX_URL_CHARS
from pipeline.request import parse_request
from ui.runtime import DEEP_MODE_HELP, open_job, runner
from worker.open_roles import open_roles

st.title("Interview Prep")
st.write(
    "Type a company and the role you're interviewing for: we read its website, GitHub, job board and "
    "blog, Wikipedia and Hacker News, then write you a briefing with likely questions, talking points "
    "and a checklist, every fact with its source."
)


def _name_key(name: str | None) -> str:
    """The company name as the open roles were found for it: case and spacing aside."""
    return " ".join((name or "").split()).casefold()


# Roles found for one company never stay on the form once the candidate types another name.
# (The form sends the name only with a submit, so this runs before any submit uses a picked role.)
typed = _name_key(st.session_state.get("company_name"))
if st.session_state.get("open_roles_for", typed) != typed:
    for stale in ("open_roles", "open_role", "open_roles_for"):
        st.session_state.pop(stale, None)

with st.form("research", border=True):
    st.text_input("Company name", key="company_name", max_chars=MAX_NAME_CHARS, placeholder="Acme Robotics")
    name_error = st.empty()
    st.text_input(
        "Website (optional)",
        key="company_url",
        max_chars=MAX_URL_CHARS,
        placeholder="https://acme.com",
        help="Leave empty and we look the company up on Wikipedia (its official website), then on GitHub.",
    )
    url_error = st.empty()
    st.text_input("Target role (optional)", key="role", max_chars=MAX_ROLE_CHARS, placeholder="Backend Engineer")
    role_error = st.empty()
    st.toggle("Deep mode", key="deep_mode", help=DEEP_MODE_HELP)
    board = st.session_state.get("open_roles")
    with st.expander("Job posting (optional): tailors the briefing to the job", expanded=board is not None):
        st.text_area("Paste the posting", key="job_description", max_chars=MAX_POSTING_CHARS, height=160)
        st.text_input("…or its web address", key="job_description_url", max_chars=MAX_URL_CHARS)
        if board is not None:  # open: the roles just found are what the candidate picks from
            st.selectbox(
                f"…or one of its {len(board.roles)} open roles on {board.service.title()}",
                options=[None, *board.roles],
                format_func=lambda r: "—" if r is None else " · ".join(p for p in (r.title, r.team, r.location) if p),
                key="open_role",
            )
    posting_error = st.empty()
    st.checkbox(
        "Refresh sources",
        key="refresh",
        help=(
            "Read every source again (the website, GitHub, the job board, the blog, Wikipedia, Hacker News) "
            "instead of reusing what was read recently."
        ),
    )
    submitted = st.form_submit_button("Research", type="primary")
    find_roles = st.form_submit_button("Find its open roles (to pick one as the posting)", icon=":material/work:")

if find_roles:
    try:
        st.session_state.open_roles = open_roles(
            runner().services, st.session_state.company_name, st.session_state.company_url or None
        )
        st.session_state.open_roles_for = _name_key(st.session_state.company_name)
    except PipelineError as error:
        posting_error.error(f"The job boards could not be asked: {error.message}", icon=":material/warning:")
    else:
        if st.session_state.open_roles is None:
            posting_error.info("No Greenhouse, Lever or Ashby board has this company's name.")
        else:
            st.rerun()  # the form shows the roles to pick from

if submitted:
    picked = st.session_state.get("open_role")
    try:
        request = parse_request(
            st.session_state.company_name,
            st.session_state.company_url,
            st.session_state.role,
            st.session_state.deep_mode,
            st.session_state.refresh,
            allow_private=runner().settings.allow_private_urls,
            job_description=st.session_state.job_description or None,  # an empty box: no posting
            job_description_url=st.session_state.job_description_url or (picked.posting_url if picked else None),
        )
    except InvalidInput as error:
        slots = {"companyUrl": url_error, "role": role_error, "jobDescription": posting_error}
        slots["jobDescriptionUrl"] = posting_error
        slot = slots.get(error.field, name_error)
        slot.error(error.message, icon=":material/warning:")
    else:
        job, _ = runner().submit(request)
        open_job(job.id)

st.caption("Takes about 30–60 seconds. You can leave the page: every job is kept in History.")
