"""Settings read once, at the edge, from the environment (or Streamlit secrets), by pydantic-settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.steps import BY_ID
from core.usage import DEFAULT_PRICES, Price, load_prices

PROJECT_DIR = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_DIR / 'data' / 'prep.db'}"
DEFAULT_GITHUB_API_URL = "https://api.github.com"
DEFAULT_MODEL = "claude-sonnet-5-5"
# I/O-bound jobs mostly wait on the network, so a few more threads than cores pays off.
DEFAULT_WORKERS = min(8, (os.cpu_count() or 1) + 2)
DEFAULT_CACHE_TTL_S = 24 * 3600.0  # a day: companies rarely change their site or repositories faster

# Streamlit's own secrets files, global then project (a later file wins, as in st.secrets).
SECRETS_FILES = (Path.home() / ".streamlit" / "secrets.toml", PROJECT_DIR / ".streamlit" / "secrets.toml")


class Settings(BaseSettings):
    """Everything the app reads from its environment, typed: the environment first, then
    `.streamlit/secrets.toml`, then the defaults; an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        env_ignore_empty=True,
        str_strip_whitespace=True,
        extra="ignore",
        toml_file=list(SECRETS_FILES),
    )

    database_url: str = Field(validation_alias="DATABASE_URL", default=DEFAULT_DATABASE_URL)
    anthropic_api_key: str | None = Field(validation_alias="ANTHROPIC_API_KEY", default=None, repr=False)
    anthropic_base_url: str | None = Field(validation_alias="ANTHROPIC_BASE_URL", default=None)
    anthropic_model: str = Field(validation_alias="ANTHROPIC_MODEL", default=DEFAULT_MODEL)
    github_token: str | None = Field(validation_alias="GITHUB_TOKEN", default=None, repr=False)
    github_api_url: str = Field(validation_alias="GITHUB_API_URL", default=DEFAULT_GITHUB_API_URL)
    workers: int = Field(validation_alias="PREP_WORKERS", default=DEFAULT_WORKERS, ge=1)
    allow_private_urls: bool = Field(validation_alias="PREP_ALLOW_PRIVATE_URLS", default=False)
    api_token: str | None = Field(validation_alias="PREP_API_TOKEN", default=None, repr=False)
    # A worker silent this long (seconds) is taken for dead: twice SQLite's 30 s busy timeout, so a
    # heartbeat held up by a busy database never makes a live worker look dead.
    lease_s: float = Field(validation_alias="PREP_LEASE_S", default=60.0, gt=0)
    # The whole job's time limit, seconds.
    job_deadline_s: float = Field(validation_alias="PREP_JOB_DEADLINE_S", default=90.0, gt=0)
    # Overrides of the steps' budgets by step id, seconds: `scrape-website=20,analyze-with-claude=45`.
    step_timeouts_s: Annotated[Mapping[str, float], NoDecode] = Field(
        validation_alias="PREP_STEP_TIMEOUTS", default_factory=dict
    )
    # How long a fetched page, robots.txt or GitHub reply is reused, seconds.
    cache_ttl_s: float = Field(validation_alias="PREP_CACHE_TTL_S", default=DEFAULT_CACHE_TTL_S, ge=0)
    # Model prices by model id: JSON, or the path of a JSON file, merged over the defaults.
    prices: Annotated[Mapping[str, Price], NoDecode] = Field(
        validation_alias="PREP_PRICES", default_factory=lambda: dict(DEFAULT_PRICES)
    )
    # Finished jobs' checkpointed step output is kept this long, days.
    keep_step_output_days: float = Field(validation_alias="PREP_KEEP_STEP_OUTPUT_DAYS", default=30.0, ge=0)
    # auto: run JavaScript-built pages in /usr/bin/chromium when it and Playwright are installed.
    render_js: Literal["auto", "off"] = Field(validation_alias="PREP_RENDER_JS", default="auto")
    # A Claude stream with no event for this long has stalled (a transient error, tried again), seconds.
    model_idle_s: float = Field(validation_alias="PREP_MODEL_IDLE_S", default=20.0, gt=0)
    # The keyless sources' public APIs (worker/services.py hands them to pipeline/source_reader.py).
    greenhouse_api_url: str = Field(
        validation_alias="PREP_GREENHOUSE_API_URL", default="https://boards-api.greenhouse.io"
    )
    lever_api_url: str = Field(validation_alias="PREP_LEVER_API_URL", default="https://api.lever.co")
    ashby_api_url: str = Field(validation_alias="PREP_ASHBY_API_URL", default="https://api.ashbyhq.com")
    wikipedia_api_url: str = Field(validation_alias="PREP_WIKIPEDIA_API_URL", default="https://en.wikipedia.org")
    wikidata_api_url: str = Field(validation_alias="PREP_WIKIDATA_API_URL", default="https://www.wikidata.org")
    hn_api_url: str = Field(validation_alias="PREP_HN_API_URL", default="https://hn.algolia.com")
    # The least time between two request starts to one of those hosts, from every job of a process,
    # milliseconds; a robots.txt Crawl-delay or Request-rate that asks more is honoured (up to 2 s).
    source_host_interval_ms: float = Field(validation_alias="PREP_SOURCE_HOST_INTERVAL_MS", default=250.0, ge=0)

    @field_validator(
        "github_api_url",
        "greenhouse_api_url",
        "lever_api_url",
        "ashby_api_url",
        "wikipedia_api_url",
        "wikidata_api_url",
        "hn_api_url",
    )
    @classmethod
    def _no_trailing_slash(cls, url: str) -> str:
        return url.rstrip("/")

    @field_validator("render_js", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("step_timeouts_s", mode="before")
    @classmethod
    def _timeouts(cls, value: object) -> object:
        return _parse_timeouts(value) if isinstance(value, str) else value

    @field_validator("prices", mode="before")
    @classmethod
    def _prices(cls, value: object) -> object:
        return load_prices(value) if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment wins over `.streamlit/secrets.toml`; no .env file, no secrets directory."""
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    @classmethod
    def from_mapping(cls, env: Mapping[str, object]) -> Settings:
        """Settings from a mapping such as os.environ alone (no other source); empty values count as unset."""
        values = {key: value for key, value in env.items() if key in KEYS and str(value).strip()}
        # pydantic-settings' own way to pick the sources of one instance: the mapping, nothing else.
        return cls(_build_sources=((InitSettingsSource(cls, init_kwargs=values),), values))

    @classmethod
    def load(cls) -> Settings:
        """Settings from the environment, with Streamlit secrets filling keys the environment lacks."""
        return cls()


KEYS = tuple(info.validation_alias for info in Settings.model_fields.values())


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
