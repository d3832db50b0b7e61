"""Usage and cost of each job: every Claude call summed (failed and late ones too), priced by table."""

from __future__ import annotations

import json

import pytest

from api.status_json import job_status
from core.request import ResearchRequest
from core.status import JobStatus
from core.usage import DEFAULT_PRICES, load_prices, price_for
from db.history import count_jobs
from db.jobs import get_job
from db.usage import usage_by_job, usage_total
from harness.fakes.anthropic_api import FakeAnthropic, MessageReply
from settings import Settings
from ui.format import escape_markdown
from worker.documents import job_markdown

WAIT_S = 30
MODEL = "claude-sonnet-5-5"
FAILED_CALL = {
    "input_tokens": 1200,
    "output_tokens": 300,
    "cache_read_input_tokens": 400,
    "cache_creation_input_tokens": 100,
}
GOOD_CALL = {"input_tokens": 2000, "output_tokens": 900, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


@pytest.fixture
def db_url(any_db_url) -> str:
    """The SQL sums read JSON differently on each database, so both run."""
    return any_db_url


def _run(runner, fake_site, name: str = "Acme Robotics") -> dict:
    job, _ = runner.submit(ResearchRequest(company_name=name, company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)
    return job_status(runner.engine, job.id, prices=runner.settings.prices)


def _cost(call: dict, price) -> float:
    return (
        call["input_tokens"] * price.input
        + call["output_tokens"] * price.output
        + call["cache_read_input_tokens"] * price.cache_read
        + call["cache_creation_input_tokens"] * price.cache_write
    ) / 1_000_000


def test_a_failed_reply_and_a_successful_one_are_both_counted(make_runner, fake_site, fake_anthropic):
    runner = make_runner(ANTHROPIC_MODEL=MODEL)
    # Job 1: Claude's reply is unusable (its tokens are spent anyway), so the offline analyzer writes it.
    # Each job asks in two requests (the facts and the coaching), so each reply is enqueued twice.
    fake_anthropic.enqueue(MessageReply("not json", usage=FAILED_CALL), MessageReply("not json", usage=FAILED_CALL))
    failed_then_offline = _run(runner, fake_site, "Acme One")
    # Job 2: one part gets a 529 (no reply, nothing billed), the other a good reply; the retry asks
    # again for the failed part only.
    good = MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL)
    fake_anthropic.enqueue(FakeAnthropic.overloaded(), good, good)
    retried = _run(runner, fake_site, "Acme Two")

    price = DEFAULT_PRICES[MODEL]
    assert failed_then_offline["briefing"]["analysisMode"] == "offline"
    assert failed_then_offline["usage"] == {
        "calls": 2,
        "models": [MODEL],
        "inputTokens": 2400,
        "outputTokens": 600,
        "cacheReadTokens": 800,
        "cacheWriteTokens": 200,
        "costUsd": round(2 * _cost(FAILED_CALL, price), 6),
    }
    assert retried["briefing"]["analysisMode"] == "claude"
    assert (retried["usage"]["calls"], retried["usage"]["inputTokens"], retried["usage"]["outputTokens"]) == (
        2,
        4000,
        1800,
    )
    assert retried["usage"]["costUsd"] == pytest.approx(2 * (2000 * 2.00 / 1e6 + 900 * 10.00 / 1e6))

    # History: per job, and the total over the current filter (summed in SQL).
    ids = [failed_then_offline["jobId"], retried["jobId"]]
    per_job = usage_by_job(runner.engine, ids, runner.settings.prices)
    assert per_job[ids[0]].to_json_dict() == failed_then_offline["usage"]
    total = usage_total(runner.engine, runner.settings.prices, status=JobStatus.COMPLETED)
    assert (total.tokens.calls, total.tokens.input, total.tokens.output) == (4, 6400, 2400)
    assert (total.tokens.cache_read, total.tokens.cache_write) == (800, 200)
    assert total.cost_usd == pytest.approx(2 * _cost(FAILED_CALL, price) + 2 * _cost(GOOD_CALL, price))
    only_two = usage_total(runner.engine, runner.settings.prices, q="two")
    assert only_two.tokens.input == 4000 and count_jobs(runner.engine, q="two") == 1


def test_a_reply_still_pending_at_the_step_limit_is_abandoned(make_runner, fake_site, fake_anthropic):
    # The analyze step has 0.5 s: a reply that would start at 0.8 s is never waited for.
    runner = make_runner(PREP_STEP_TIMEOUTS="analyze-with-claude=0.5")
    late = MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL, delay_s=0.8)
    fake_anthropic.enqueue(late, late)

    status = _run(runner, fake_site)

    assert status["status"] == "completed" and status["briefing"]["analysisMode"] == "offline"
    analyze = next(step for step in status["steps"] if step["id"] == "analyze-with-claude")
    assert "time ran out" in (analyze["error"] or "")
    assert status["usage"]["calls"] == 0  # no event came back: the API reported no usage


def test_an_unknown_model_shows_tokens_with_an_unknown_cost(make_runner, fake_site, fake_anthropic):
    runner = make_runner(ANTHROPIC_MODEL="claude-imaginary-1")
    good = MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL)
    fake_anthropic.enqueue(good, good)

    status = _run(runner, fake_site)

    assert status["usage"]["inputTokens"] == 4000 and status["usage"]["costUsd"] is None
    job = get_job(runner.engine, status["jobId"])
    document = job_markdown(runner.engine, job, status["briefing"], runner.settings.prices)
    assert "4,000 input" in document and "cost unknown" in document


def test_offline_jobs_cost_nothing(make_runner, fake_site):
    runner = make_runner(ANTHROPIC_API_KEY="")
    status = _run(runner, fake_site)

    assert status["usage"]["calls"] == 0 and status["usage"]["costUsd"] == 0


def test_prep_prices_overrides_the_table_inline_or_from_a_file(tmp_path):
    inline = Settings.from_mapping(
        {"PREP_PRICES": '{"claude-sonnet-5-5": {"input": 1, "output": 2, "cacheRead": 0, "cacheWrite": 0}}'}
    )
    assert inline.prices[MODEL].output == 2 and inline.prices["claude-opus-5"] == DEFAULT_PRICES["claude-opus-5"]

    path = tmp_path / "prices.json"
    path.write_text('{"my-model": {"input": 3, "output": 4, "cacheRead": 0.3, "cacheWrite": 3.75}}')
    from_file = Settings.from_mapping({"PREP_PRICES": str(path)})
    assert price_for("my-model-20261101", from_file.prices).input == 3  # a dated snapshot of a priced id

    for bad, message in [
        ("{not json", "not valid JSON"),
        ('{"m": {"input": -1, "output": 1, "cacheRead": 0, "cacheWrite": 0}}', "PREP_PRICES['m'].input"),
        (str(tmp_path / "missing.json"), "cannot read"),
    ]:
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_prices(bad)


def test_the_job_page_history_and_markdown_show_the_usage(app_env, fake_site, fake_anthropic):
    from streamlit.testing.v1 import AppTest

    from settings import PROJECT_DIR
    from worker.runner import get_runner

    good = MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL)
    fake_anthropic.enqueue(good, good)  # the facts and the coaching
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)
    cost = "$0.0260"  # twice 2,000 × $2 + 900 × $10 per million tokens

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=WAIT_S)
    at.query_params["job"] = job.id
    at.switch_page("pages/job.py")
    at = at.run()
    captions = "\n".join(c.value for c in at.caption)
    assert "4,000 input" in captions and "1,800 output" in captions and escape_markdown(f"cost {cost}") in captions
    assert f"_Usage: 2 calls to {MODEL}" in at.code[0].value  # the Markdown's footer

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=WAIT_S)
    at.switch_page("pages/history.py")
    at = at.run()
    captions = "\n".join(c.value for c in at.caption)
    assert escape_markdown(f"cost {cost}") in captions  # the job's row
    assert "usage of this job" in captions and "4,000 input" in captions  # the filter's total
