"""The JSON API served by the Streamlit process: `ROUTES` for `st.App(..., routes=ROUTES)`."""
