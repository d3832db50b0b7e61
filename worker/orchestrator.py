"""company-research-job: scrape ∥ GitHub ∥ keyless sources, then analyze, then store — resumable after a crash.

Each step's output is checkpointed in its attempt row; a job taken over after its worker died
skips every step that already succeeded. Only db/ changes the job's status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from core.errors import JobCancelled, NetworkError, PipelineError, StepTimeout
from core.request import Frozen
from core.status import AttemptStatus
from core.steps import ANALYZE, GITHUB, IDENTIFY, MAX_LEASES, SCRAPE, SOURCES, STORE, StepSpec
from db import attempts, jobs
from db.jobs import Fence
from db.models import Job, StepAttempt
from db.store import store_research
from pipeline.analyze import analyze_with_claude
from pipeline.briefing import build_briefing
from pipeline.draft_reader import draft_of
from pipeline.github import search_github
from pipeline.identity import identify_company
from pipeline.job_boards import board_posting, read_board_posting
from pipeline.model_stream import LiveBriefing
from pipeline.models import Briefing, ExtraSources, GitHubData, Identified, Page, ScrapedSite
from pipeline.offline import analyze_offline
from pipeline.posting import POSTING_UNREADABLE, pasted_posting, read_posting
from pipeline.research_sources import Home, read_sources
from pipeline.scrape import GIVE_WEBSITE, no_website, scrape_website
from pipeline.source_reader import Reader
from worker.checkpoints import pack, unpack
from worker.live_view import partial_meta
from worker.services import Services
from worker.step_backoff import run_attempts

log = logging.getLogger(__name__)

FALLBACK_RESERVE_S = (
    3.0  # Claude must be done this long before the job's deadline: the fallback and store need it, seconds
)

# (deadline), or (deadline, row) for a step that closes its own attempt row
StepFn = Callable[..., "tuple[Frozen, dict | None]"]


@dataclass
class _Run:
    """One worker's run of one job."""

    services: Services
    job: Job
    fence: Fence  # this worker's lease: every write it makes to the job checks it
    deadline: float  # time.monotonic() by which the whole job must end
    done: dict[str, dict]  # checkpointed outputs of steps that already succeeded

    @property
    def engine(self):
        return self.services.engine

    def check_cancel(self) -> None:
        """At a step boundary: stop if this worker is shutting down or the job was cancelled."""
        if self.services.stopping.is_set():
            raise _Released()
        if jobs.is_cancel_requested(self.engine, self.job.id):
            raise JobCancelled()

    def step(
        self,
        spec: StepSpec,
        fn: StepFn,
        model: type[Frozen],
        *,
        tries: int | None = None,
        closes_attempt: bool = False,
        sees_attempt: bool = False,
    ) -> Frozen:
        """Run `spec`, attempt after attempt, unless a checkpoint holds its output; returns that output.

        With `closes_attempt`, `fn(deadline, row)` closes its attempt row itself when it succeeds
        (in the transaction that completes the job); with `sees_attempt`, `fn(deadline, row)`
        gets its running attempt row but the step still closes it."""
        if spec.id in self.done:
            return unpack(model, self.done[spec.id])
        budget_s = self.services.timeout_for(spec)
        deadline = min(self.deadline, time.monotonic() + budget_s) if budget_s else self.deadline

        def attempt() -> Frozen:
            if time.monotonic() >= deadline:
                raise StepTimeout(f"{spec.label} ran out of time.")
            row = attempts.start(self.engine, self.fence, spec.id)
            meta = None

            def failed(kind: str, message: str, kept: dict | None = None) -> None:
                attempts.finish(
                    self.engine,
                    self.fence,
                    row,
                    AttemptStatus.FAILED,
                    meta=kept,
                    error_kind=kind,
                    error_message=message,
                )

            try:
                output, meta = fn(deadline, row) if closes_attempt or sees_attempt else fn(deadline)
                # A step that closed its own attempt has committed: too late to call it timed out.
                if not closes_attempt and time.monotonic() > deadline:
                    raise StepTimeout(f"{spec.label} took longer than its time limit.")
            except PipelineError as error:
                # A model reply that failed validation, or came back after the deadline, still
                # cost tokens: keep its call record.
                call = getattr(error, "llm_call", None)
                failed(error.kind, error.message, meta or ({"llmCall": call.to_json_dict()} if call else None))
                raise
            except (attempts.NotOwner, SQLAlchemyError):
                raise  # not the step's fault: run_job hands the job on
            except _Released:  # the worker stopped mid-step (a progress note checks): not a crash
                failed("interrupted", "The worker stopped during this step; the job went back to the queue.")
                raise
            except Exception as error:
                log.exception("step %s of job %s crashed", spec.id, self.job.id)
                failed("internal", repr(error)[:500])
                raise
            if not closes_attempt:
                skipped = getattr(output, "skipped_reason", None)
                attempts.finish(
                    self.engine,
                    self.fence,
                    row,
                    AttemptStatus.SKIPPED if skipped else AttemptStatus.SUCCEEDED,
                    output=pack(output),
                    meta=meta,
                    error_message=skipped,
                )
            return output

        return run_attempts(attempt, tries=tries or spec.attempts, deadline=deadline)


def run_job(services: Services, fence: Fence) -> None:
    """Run a job this worker leased to a terminal state, or hand it back to the queue."""
    engine = services.engine
    job_id = fence.job_id
    if fence.lease > MAX_LEASES:
        jobs.fail(
            engine,
            fence,
            "interrupted",
            f"The research was interrupted {MAX_LEASES} times by a restart and was stopped. Retry it.",
        )
        return
    try:
        job = jobs.get_job(engine, job_id)
        run = _Run(
            services, job, fence, time.monotonic() + services.job_deadline_s, attempts.checkpoints(engine, job_id)
        )
        _research(run)
    except attempts.NotOwner:
        log.warning("job %s was taken over by another worker; this worker stops", job_id)
    except _Released:
        jobs.release(engine, fence)
    except JobCancelled:
        jobs.mark_cancelled(engine, fence)
    except PipelineError as error:
        jobs.fail(engine, fence, error.kind, error.message)
    except SQLAlchemyError:
        # The database stayed away longer than a blip is redone: not the job's fault. The job stays
        # processing here until this worker's tick (or, if it dies, a peer) queues it again.
        log.exception("job %s stopped: the database did not answer", job_id)
    except Exception:
        log.exception("job %s crashed", job_id)
        jobs.fail(engine, fence, "internal", "An unexpected error stopped the research. It was logged; retry it.")


def _research(run: _Run) -> None:
    """The steps in order; the last one completes the job."""
    run.check_cancel()
    side_pool = run.services.side_pool
    url = run.job.company_url
    identity_future = None
    if url:
        # The identity, GitHub and keyless-source lookups are leaf tasks on the side pool: they
        # never wait on a pool themselves, so this job thread waiting on them cannot deadlock.
        identity_future = side_pool.submit(_identify, run, _host(url))
    else:
        identified = _identify(run, None)  # which company the name means, and its website
        url = identified.identity.website if identified.identity else None
    home: Future[Home | None] = Future()  # the blog reader waits for the scrape's home page
    if url:
        github_future = side_pool.submit(_github, run, _host(url))
        sources_future = side_pool.submit(_sources, run, url, home)
        try:
            site = _scrape(run, url, home, found_on=None if run.job.company_url else "Wikipedia")
        finally:
            _announce(home, None)  # if the scrape failed before the home page, the blog reader stops waiting
            # Even when the scrape fails, the others finish first, so no attempt row is left
            # running under a job that has ended.
            github = _wait(run, github_future, GitHubData(warning="GitHub did not answer in time."))
            extra = _wait(run, sources_future, ExtraSources(unread=[_SOURCES_LATE]))
            if identity_future is not None:
                identified = _wait(run, identity_future, Identified(unread=_IDENTITY_LATE))
    else:
        github = _github(run, None)
        sources_future = side_pool.submit(_sources, run, github.homepage, home)
        try:
            site = _scrape(run, github.homepage, home, found_on="GitHub")
        finally:
            _announce(home, None)
            extra = _wait(run, sources_future, ExtraSources(unread=[_SOURCES_LATE]))
    extra = extra.model_copy(
        update={
            "identity": identified.identity,
            "unread": [
                *([identified.unread] if identified.unread else []),
                *([site.skipped_reason] if site.url is None and site.skipped_reason else []),  # no site was read
                *extra.unread,
            ],
        }
    )
    run.check_cancel()
    briefing = _analyze(run, site.model_copy(update={"extra": extra}), github)
    run.check_cancel()
    _store(run, briefing, site.url)


_SOURCES_LATE = "The job board, blog and discussion did not answer in time."
_IDENTITY_LATE = "Wikipedia did not answer in time."


def _announce(home: Future, read: Home | None) -> None:
    """Tell the blog reader where the home page is, once: the first word (the page as read) stands."""
    if not home.done():
        home.set_result(read)


def _wait(run: _Run, future: Future, late: Frozen | None) -> Frozen | None:
    """A side task's output, or `late` when the job's deadline comes first."""
    try:
        return future.result(timeout=max(0.0, run.deadline - time.monotonic()))
    except FutureTimeout:
        return late


def _reader(run: _Run, deadline: float) -> Reader:
    """How this job reads the keyless sources: the site's guarded client, the source cache."""
    services = run.services
    cache = services.sources.for_job(run.job.refresh)
    return Reader(services.site_client, services.site_policy, cache, deadline, services.source_interval_s)


def _read_posting(run: _Run, url: str, deadline: float) -> Page:
    """The posting the candidate linked: a job board's through its API, any other page as a page."""
    ref = board_posting(url)
    if ref is not None:
        return read_board_posting(ref, _reader(run, deadline), run.services.source_apis)
    return read_posting(url, run.services.site_client, run.services.site_policy, deadline=deadline)


def _identify(run: _Run, domain: str | None) -> Identified:
    """identify-company never fails the job: without an answer the job goes on without Wikipedia."""

    def identify(deadline: float):
        services = run.services
        identity = identify_company(
            run.job.company_name, domain, reader=_reader(run, deadline), apis=services.source_apis
        )
        if identity is None:
            where = f" with a website on {domain}" if domain else " with an official website"
            return Identified(skipped_reason=f"Wikipedia has no article on {run.job.company_name}{where}."), None
        return Identified(identity=identity), None

    return _non_critical(run, IDENTIFY, identify, Identified, "Wikipedia", lambda why: Identified(unread=why))


def _sources(run: _Run, website: str | None, home: Future) -> ExtraSources:
    """read-sources never fails the job: what it could not read is named in the briefing."""

    def read(deadline: float):
        extra = read_sources(
            run.job.company_name,
            website,
            lambda: _wait(run, home, None),
            deep=run.job.deep_mode,
            reader=_reader(run, deadline),
            apis=run.services.source_apis,
            posting_url=run.job.job_description_url,
        )
        return extra, None

    what = "The job board, blog and discussion"
    return _non_critical(run, SOURCES, read, ExtraSources, what, lambda why: ExtraSources(unread=[why]))


def _non_critical(
    run: _Run, spec: StepSpec, fn: StepFn, model: type[Frozen], what: str, fallback: Callable[[str], Frozen]
) -> Frozen:
    """Run a step that never fails the job: if it fails, `fallback` gets the sentence saying what could not be read."""
    try:
        return run.step(spec, fn, model)
    except PipelineError as error:
        return fallback(f"{what} could not be read: {error.message}")
    except (attempts.NotOwner, SQLAlchemyError):
        raise
    except Exception:
        log.exception("%s crashed for job %s", spec.id, run.job.id)
        return fallback(f"{what} could not be read because of an internal error.")


def _host(url: str | None) -> str | None:
    return urlsplit(url).hostname if url else None


def _scrape(run: _Run, url: str | None, home: Future, *, found_on: str | None = None) -> ScrapedSite:
    """Read the site. A URL the candidate gave must be readable; one `found_on` Wikipedia or GitHub
    need not be, and without any the step is skipped: both skips ask the candidate for the website."""
    services = run.services

    def scrape(deadline: float):
        site = _read_site(deadline)
        if run.job.job_description_url:  # the posting the candidate linked becomes a source too
            posting = _read_posting(run, run.job.job_description_url, deadline)
            site = site.model_copy(update={"posting": posting})
        return site, None

    def _read_site(deadline: float) -> ScrapedSite:
        if url is None:
            return no_website(run.job.company_name)
        try:
            return scrape_website(
                url,
                deep=run.job.deep_mode,
                client=services.site_client,
                policy=services.site_policy,
                deadline=deadline,
                cache=services.sources.for_job(run.job.refresh),
                on_home=lambda page_url, feeds: _announce(home, Home(page_url, feeds)),
            )
        except PipelineError as error:
            if found_on is None:
                raise
            reason = (
                f"The site {found_on} lists ({url}) could not be read ({error.message.rstrip('.')}); {GIVE_WEBSITE}"
            )
            return ScrapedSite(skipped_reason=reason)

    try:
        site = run.step(SCRAPE, scrape, ScrapedSite)
    except PipelineError as error:
        if error.message.startswith(POSTING_UNREADABLE):
            raise
        raise type(error)(f"We could not read the company website: {error.message}") from error
    _announce(home, Home(site.url, site.feeds) if site.url else None)  # a checkpointed scrape ran no on_home
    return site


def _github(run: _Run, domain: str | None) -> GitHubData:
    """search-github never fails the job: after its attempts it yields an empty result and a warning."""

    def search(deadline: float):
        services = run.services
        data = search_github(
            run.job.company_name,
            services.github_client,
            domain=domain,
            deadline=deadline,
            cache=services.sources.for_job(run.job.refresh),
            budget=services.github_budget,
        )
        return data, None

    return _non_critical(run, GITHUB, search, GitHubData, "GitHub", lambda why: GitHubData(warning=why))


def _analyze(run: _Run, site: ScrapedSite, github: GitHubData) -> Briefing:
    services = run.services
    job = run.job

    posting = site.posting or (pasted_posting(job.job_description) if job.job_description else None)
    live = LiveBriefing()  # what Claude wrote, kept across the attempts of this step

    def finish(draft, mode: str, model: str | None, slips=(), incomplete: str | None = None) -> Briefing:
        return build_briefing(
            draft,
            company_name=job.company_name,
            site=site,
            github=github,
            mode=mode,
            model=model,
            posting=posting,
            slips=slips,
            incomplete=incomplete,
        )

    def checkpoint(row: StepAttempt):
        written = None  # what the last note showed

        def note(live: LiveBriefing) -> None:
            nonlocal written
            # While Claude sends nothing (before its first token, or stalled) the note would be the
            # same: building and writing it again every second is CPU for nothing.
            shown = (live.tokens, tuple(live.sections), len(live.slips))
            if shown != written:
                briefing = finish(draft_of(live.sections), "claude", services.model, live.slips)
                attempts.note(run.engine, run.fence, row, partial_meta(live, briefing))
                written = shown
            run.check_cancel()  # at most once a second: a cancel stops the streams within about a second

        return note

    def with_claude(deadline: float, row: StepAttempt):
        analysis = analyze_with_claude(
            job.company_name,
            site,
            github,
            job.role,
            services.llm,
            model=services.model,
            deadline=min(deadline, run.deadline - FALLBACK_RESERVE_S),
            posting=posting,
            live=live,
            pool=services.side_pool,
            on_progress=checkpoint(row),
            idle_s=services.model_idle_s,
        )
        briefing = finish(analysis.draft, "claude", analysis.call.model, analysis.slips, analysis.incomplete)
        return briefing, {"analyzer": "claude", "llmCall": analysis.call.to_json_dict()}

    fallback_reason = "No Anthropic API key is configured."
    if services.llm is not None:
        try:
            return run.step(ANALYZE, with_claude, Briefing, sees_attempt=True)
        except PipelineError as error:
            if isinstance(error, JobCancelled):
                raise
            fallback_reason = f"Claude failed ({error.message})"
            if live.sections:  # Claude's whole sections are kept: its work is never thrown away
                cause = error.message.rstrip(".")
                why = f"Claude's reply broke off ({cause}); the sections that arrived whole are shown."
                return run.step(ANALYZE, partial(_salvage, finish, live, services.model, why), Briefing, tries=1)

    def offline(_deadline: float):
        draft = analyze_offline(job.company_name, site, github, job.role, posting)
        return finish(draft, "offline", None), {"analyzer": "offline", "reason": fallback_reason}

    return run.step(ANALYZE, offline, Briefing, tries=1)


def _salvage(finish: Callable, live: LiveBriefing, model: str, why: str, _deadline: float):
    """The briefing of Claude's whole sections, when its attempts ran out before it was done."""
    briefing = finish(draft_of(live.sections), "claude", model, live.slips, why)
    return briefing, {"analyzer": "claude", "reason": why}


def _store(run: _Run, briefing: Briefing, website: str | None) -> None:
    job = run.job

    def store(_deadline: float, row: StepAttempt):
        try:
            result = store_research(run.engine, run.fence, row, job.company_name, website, briefing.to_json_dict())
        except OperationalError as error:  # the database stayed away longer than a blip is redone
            raise NetworkError(f"the database was busy ({error.orig.__class__.__name__})") from error
        return _Stored.model_validate(result.to_json_dict()), None

    run.step(STORE, store, _Stored, closes_attempt=True)


class _Released(Exception):
    """The worker is shutting down: the job goes back to the queue at this step boundary."""


class _Stored(Frozen):
    """store-research's output, as the original task returned it."""

    success: bool
    company_id: int
    job_id: str
    timestamp: str
