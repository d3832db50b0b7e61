"""Who may see the pages: with PREP_API_TOKEN set, only a browser session that entered it.

Until then every URL of the app shows the sign-in prompt and nothing else: app.py builds the
navigation from it alone, so no page script (the form, History, a job, its Delete button) runs.
The entered token is compared in constant time and not stored by the app; the session remembers
only that it signed in, so a new browser tab or a reload asks again.
"""

from __future__ import annotations

import hmac

import streamlit as st

SIGNED_IN = "signed_in"  # session-state key: this session entered the right token


def signed_in(token: str | None) -> bool:
    """Whether this session may see the pages: no token is configured, or it was entered."""
    return token is None or st.session_state.get(SIGNED_IN, False)


def sign_in_pages(token: str, url_paths: list[str]) -> list[st.Page]:
    """The sign-in prompt as the only page, at every URL path of the app's pages, the first the
    default as in the app's navigation (so a link to a job or History asks to sign in rather than
    "page not found", and opens once signed in)."""

    def sign_in() -> None:
        st.title("Sign in")
        st.write("This Interview Prep is protected. Enter its access token (PREP_API_TOKEN) to continue.")
        with st.form("sign_in"):
            entered = st.text_input("Access token", type="password")  # no key: not kept in session state
            submitted = st.form_submit_button("Sign in", type="primary")
        if submitted:
            if hmac.compare_digest(entered.encode(), token.encode()):
                st.session_state[SIGNED_IN] = True
                st.rerun()  # the navigation is built again, now with every page; the URL asked for opens
            st.error("That is not the access token.", icon=":material/lock:")

    return [
        st.Page(sign_in, title="Sign in", icon=":material/lock:", url_path=path, default=number == 0)
        for number, path in enumerate(url_paths)
    ]
