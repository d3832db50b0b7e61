"""The loopback world tests and benchmarks share: fake services (fakes/), the app served by
`streamlit run` (live_app.py), replicas of it (replicas.py), a load driver and Debian's Chromium.
Nothing here is imported by the product."""
