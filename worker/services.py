"""The injected clients a job runs with, built once per process from Settings."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import Executor
from dataclasses import dataclass

import anthropic
import httpx
from sqlalchemy.engine import Engine

from core.steps import StepSpec
from db.github_budget import DbBudget
from db.source_cache import DbCacheStore
from pipeline.analyze import make_llm_client
from pipeline.cache import SourceCache
from pipeline.fetch import FetchPolicy, make_site_client
from pipeline.github import make_github_client
from pipeline.render import can_render
from pipeline.source_reader import SourceApis
from settings import Settings


@dataclass(frozen=True)
class Services:
    """Everything a job needs besides its id: the database, the clients, the side pool."""

    engine: Engine
    site_client: httpx.Client
    site_policy: FetchPolicy
    github_client: httpx.Client
    source_apis: SourceApis  # where the job boards, Wikipedia, Wikidata and Hacker News answer
    source_interval_s: float  # the least time between two request starts to one of their hosts, seconds
    sources: SourceCache  # pages, robots.txt and GitHub replies, in the database: shared by every process
    github_budget: DbBudget  # GitHub's rate limit, in the database: one budget for every job and process
    llm: anthropic.Anthropic | None  # None: no API key, the offline analyzer writes briefings
    model: str
    side_pool: Executor  # runs leaf tasks only (tasks that never wait on a pool)
    stopping: threading.Event  # set when the runner shuts down: jobs stop at their next step
    job_deadline_s: float
    model_idle_s: float  # a Claude stream silent this long has stalled, seconds
    step_timeouts_s: Mapping[str, float]  # overrides of StepSpec.timeout_s by step id

    def timeout_for(self, step: StepSpec) -> float | None:
        """The time budget of `step`, in seconds; None: only the job deadline bounds it."""
        return self.step_timeouts_s.get(step.id, step.timeout_s)

    @classmethod
    def build(cls, settings: Settings, engine: Engine, side_pool: Executor, stopping: threading.Event) -> Services:
        """Clients configured from settings."""
        policy = FetchPolicy(
            allow_private=settings.allow_private_urls, render_js=settings.render_js == "auto" and can_render()
        )
        llm = (
            make_llm_client(settings.anthropic_api_key, settings.anthropic_base_url, timeout_s=settings.model_idle_s)
            if settings.anthropic_api_key
            else None
        )
        return cls(
            engine=engine,
            site_client=make_site_client(policy),
            site_policy=policy,
            github_client=make_github_client(settings.github_api_url, settings.github_token),
            source_apis=SourceApis(
                greenhouse=settings.greenhouse_api_url,
                lever=settings.lever_api_url,
                ashby=settings.ashby_api_url,
                wikipedia=settings.wikipedia_api_url,
                wikidata=settings.wikidata_api_url,
                hn=settings.hn_api_url,
            ),
            source_interval_s=settings.source_host_interval_ms / 1000,
            sources=SourceCache(DbCacheStore(engine), ttl_s=settings.cache_ttl_s),
            github_budget=DbBudget(engine, authenticated=bool(settings.github_token)),
            llm=llm,
            model=settings.anthropic_model,
            side_pool=side_pool,
            stopping=stopping,
            job_deadline_s=settings.job_deadline_s,
            model_idle_s=settings.model_idle_s,
            step_timeouts_s=settings.step_timeouts_s,
        )

    def close(self) -> None:
        """Close the HTTP clients."""
        self.site_client.close()
        self.github_client.close()
        if self.llm is not None:
            self.llm.close()
