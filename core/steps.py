"""The pipeline's steps as the engine runs them: ids, attempt limits and time limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StepSpec:
    """How the engine runs one step."""

    id: str
    label: str  # what the candidate sees while it runs
    attempts: int
    timeout_s: float | None  # the step's whole budget, retries included; None: only the job deadline


IDENTIFY = StepSpec("identify-company", "Finding out which company this is", 2, 10.0)
SCRAPE = StepSpec("scrape-website", "Reading the company website", 3, 15.0)
GITHUB = StepSpec("search-github", "Looking the company up on GitHub", 3, 10.0)
SOURCES = StepSpec("read-sources", "Reading its job board, blog and what others say", 2, 15.0)
# No total of its own: a stream still writing is never cut; an idle limit and the job's deadline bound it.
ANALYZE = StepSpec("analyze-with-claude", "Writing the briefing", 2, None)
STORE = StepSpec("store-research", "Saving the briefing", 3, None)
STEPS = (IDENTIFY, SCRAPE, GITHUB, SOURCES, ANALYZE, STORE)
BY_ID = {step.id: step for step in STEPS}

MAX_LEASES = 3  # a job whose worker died this many times is failed rather than tried again
