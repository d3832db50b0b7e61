"""Settings read once, at the edge, from the environment (or Streamlit secrets)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.steps import BY_ID
from core.usage import DEFAULT_PRICES, Price, load_prices
from pipeline.source_reader import SourceApis

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_DIR / 'data' / 'prep.db'}"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_MODEL = "claude-sonnet-5-5"
# I/O-bound jobs mostly wait on the network, so a few more threads than cores pays off.
DEFAULT_WORKERS = min(8, (os.cpu_count() or 1) + 2)
DEFAULT_CACHE_TTL_S = 24 * 3600.0  # a day: companies rarely change their site or repositories faster

_TRUE = {"1", "true", "yes", "on"}

KEYS = (
    "DATABASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_MODEL",
    "GITHUB_TOKEN",
    "GITHUB_API_URL",
    "PREP_WORKERS",
    "PREP_ALLOW_PRIVATE_URLS",
    "PREP_API_TOKEN",
    "PREP_LEASE_S",
    "PREP_JOB_DEADLINE_S",
    "PREP_STEP_TIMEOUTS",
    "PREP_CACHE_TTL_S",
    "PREP_PRICES",
    "PREP_KEEP_STEP_OUTPUT_DAYS",
    "PREP_GREENHOUSE_API_URL",
    "PREP_LEVER_API_URL",
    "PREP_ASHBY_API_URL",
    "PREP_WIKIPEDIA_API_URL",
    "PREP_WIKIDATA_API_URL",
    "PREP_HN_API_URL",
)
# The keyless sources' settings and the SourceApis field each one sets.
_SOURCE_API_KEYS = {
    "PREP_GREENHOUSE_API_URL": "greenhouse",
    "PREP_LEVER_API_URL": "lever",
    "PREP_ASHBY_API_URL": "ashby",
    "PREP_WIKIPEDIA_API_URL": "wikipedia",
    "PREP_WIKIDATA_API_URL": "wikidata",
    "PREP_HN_API_URL": "hn",
}


@dataclass(frozen=True)
class Settings:
    """Everything the app reads from its environment, typed."""

    database_url: str = DEFAULT_DATABASE_URL
    anthropic_api_key: str | None = field(default=None, repr=False)
    anthropic_base_url: str | None = None
    anthropic_model: str = DEFAULT_MODEL
    github_token: str | None = field(default=None, repr=False)
    github_api_url: str = DEFAULT_GITHUB_API_URL
    workers: int = DEFAULT_WORKERS
    allow_private_urls: bool = False
    api_token: str | None = field(default=None, repr=False)
    # A worker silent this long (seconds) is taken for dead: twice SQLite's 30 s busy timeout, so a
    # heartbeat held up by a busy database never makes a live worker look dead.
    lease_s: float = 60.0
    job_deadline_s: float = 90.0  # the whole job's time limit, seconds
    step_timeouts_s: Mapping[str, float] = field(default_factory=dict)  # overrides by step id, seconds
    cache_ttl_s: float = DEFAULT_CACHE_TTL_S  # how long a fetched page, robots.txt or GitHub reply is reused, seconds
    prices: Mapping[str, Price] = field(default_factory=lambda: dict(DEFAULT_PRICES))  # by model id
    keep_step_output_days: float = 30.0  # finished jobs' checkpointed step output is kept this long
    source_apis: SourceApis = SourceApis()  # job boards, Wikipedia, Wikidata, Hacker News: the public hosts

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        """Settings from a mapping such as os.environ; empty values count as unset."""
        get = lambda key: (env.get(key) or "").strip() or None
        workers = int(get("PREP_WORKERS") or DEFAULT_WORKERS)
        if workers < 1:
            raise ValueError("PREP_WORKERS must be at least 1")
        return cls(
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            anthropic_api_key=get("ANTHROPIC_API_KEY"),
            anthropic_base_url=get("ANTHROPIC_BASE_URL"),
            anthropic_model=get("ANTHROPIC_MODEL") or DEFAULT_MODEL,
            github_token=get("GITHUB_TOKEN"),
            github_api_url=(get("GITHUB_API_URL") or DEFAULT_GITHUB_API_URL).rstrip("/"),
            workers=workers,
            allow_private_urls=(get("PREP_ALLOW_PRIVATE_URLS") or "").lower() in _TRUE,
            api_token=get("PREP_API_TOKEN"),
            lease_s=float(get("PREP_LEASE_S") or 60.0),
            job_deadline_s=float(get("PREP_JOB_DEADLINE_S") or 90.0),
            step_timeouts_s=_parse_timeouts(get("PREP_STEP_TIMEOUTS") or ""),
            cache_ttl_s=float(get("PREP_CACHE_TTL_S") or DEFAULT_CACHE_TTL_S),
            prices=load_prices(get("PREP_PRICES")),
            keep_step_output_days=float(get("PREP_KEEP_STEP_OUTPUT_DAYS") or 30.0),
            source_apis=replace(
                SourceApis(), **{name: url.rstrip("/") for key, name in _SOURCE_API_KEYS.items() if (url := get(key))}
            ),
        )

    @classmethod
    def load(cls) -> Settings:
        """Settings from the environment, with Streamlit secrets filling keys the environment lacks."""
        return cls.from_mapping({**_secrets(), **{k: v for k, v in os.environ.items() if k in KEYS}})


def _parse_timeouts(text: str) -> dict[str, float]:
    """`scrape-website=20,analyze-with-claude=45` → {step id: seconds}."""
    timeouts = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        step, _, seconds = item.partition("=")
        if not seconds:
            raise ValueError(f"PREP_STEP_TIMEOUTS: expected step=seconds, got {item!r}")
        timeouts[step.strip()] = float(seconds)
    unknown = set(timeouts) - set(BY_ID)
    if unknown:
        raise ValueError(f"PREP_STEP_TIMEOUTS names unknown steps: {', '.join(sorted(unknown))}")
    return timeouts


def _secrets() -> dict[str, str]:
    """Our keys from `.streamlit/secrets.toml`, when that file exists; never an error."""
    paths = [PROJECT_DIR / ".streamlit" / "secrets.toml", Path.home() / ".streamlit" / "secrets.toml"]
    if not any(path.exists() for path in paths):
        return {}
    import streamlit as st  # only here: the CLI and workers run without a Streamlit runtime

    try:
        return {key: str(st.secrets[key]) for key in KEYS if key in st.secrets}
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}
