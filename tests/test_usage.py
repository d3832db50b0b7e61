"""Usage and cost of each job: every Claude call summed (failed and late ones too), priced by table."""

from __future__ import annotations

import json

import pytest

from core.request import ResearchRequest
from core.status import JobStatus
from core.usage import DEFAULT_PRICES, load_prices, price_for
from db.history import count_jobs
from db.jobs import get_job
from db.usage import usage_by_job, usage_total
from engine.documents import job_markdown
from engine.status import job_status
from settings import Settings
from tests.fakes.anthropic_api import FakeAnthropic, MessageReply
from ui.format import escape_markdown

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
    fake_anthropic.enqueue(MessageReply("not json", usage=FAILED_CALL))
    failed_then_offline = _run(runner, fake_site, "Acme One")
    # Job 2: a 529 (no reply, nothing billed), then a good reply.
    fake_anthropic.enqueue(FakeAnthropic.overloaded(), MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL))
    retried = _run(runner, fake_site, "Acme Two")

    price = DEFAULT_PRICES[MODEL]
    assert failed_then_offline["results"]["analysisMode"] == "offline"
    assert failed_then_offline["usage"] == {
        "calls": 1,
        "models": [MODEL],
        "inputTokens": 1200,
        "outputTokens": 300,
        "cacheReadTokens": 400,
        "cacheWriteTokens": 100,
        "costUsd": round(_cost(FAILED_CALL, price), 6),
    }
    assert retried["results"]["analysisMode"] == "claude"
    assert (retried["usage"]["calls"], retried["usage"]["inputTokens"], retried["usage"]["outputTokens"]) == (
        1,
        2000,
        900,
    )
    assert retried["usage"]["costUsd"] == pytest.approx(2000 * 2.00 / 1e6 + 900 * 10.00 / 1e6)

    # History: per job, and the total over the current filter (summed in SQL).
    ids = [failed_then_offline["jobId"], retried["jobId"]]
    per_job = usage_by_job(runner.engine, ids, runner.settings.prices)
    assert per_job[ids[0]].to_json_dict() == failed_then_offline["usage"]
    total = usage_total(runner.engine, runner.settings.prices, status=JobStatus.COMPLETED)
    assert (total.tokens.calls, total.tokens.input, total.tokens.output) == (2, 3200, 1200)
    assert (total.tokens.cache_read, total.tokens.cache_write) == (400, 100)
    assert total.cost_usd == pytest.approx(_cost(FAILED_CALL, price) + _cost(GOOD_CALL, price))
    only_two = usage_total(runner.engine, runner.settings.prices, q="two")
    assert only_two.tokens.input == 2000 and count_jobs(runner.engine, q="two") == 1


def test_a_reply_after_the_deadline_keeps_its_usage(make_runner, fake_site, fake_anthropic):
    # The analyze step has 0.5 s; the SDK's own timeout is at least 1 s, so a reply at 0.8 s comes back late.
    runner = make_runner(PREP_STEP_TIMEOUTS="analyze-with-claude=0.5")
    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL, delay_s=0.8))

    status = _run(runner, fake_site)

    assert status["status"] == "completed" and status["results"]["analysisMode"] == "offline"
    analyze = next(step for step in status["steps"] if step["id"] == "analyze-with-claude")
    assert "time limit" in (analyze["error"] or "")
    assert (status["usage"]["calls"], status["usage"]["inputTokens"], status["usage"]["outputTokens"]) == (1, 2000, 900)


def test_an_unknown_model_shows_tokens_with_an_unknown_cost(make_runner, fake_site, fake_anthropic):
    runner = make_runner(ANTHROPIC_MODEL="claude-imaginary-1")
    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL))

    status = _run(runner, fake_site)

    assert status["usage"]["inputTokens"] == 2000 and status["usage"]["costUsd"] is None
    job = get_job(runner.engine, status["jobId"])
    document = job_markdown(runner.engine, job, status["results"], runner.settings.prices)
    assert "2,000 input" in document and "cost unknown" in document


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

    from engine.runner import get_runner
    from settings import PROJECT_DIR

    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), usage=GOOD_CALL))
    runner = get_runner()
    job, _ = runner.submit(ResearchRequest(company_name="Acme Robotics", company_url=fake_site.url))
    runner.wait(job.id, timeout_s=WAIT_S)
    cost = "$0.0130"  # 2,000 × $2 + 900 × $10 per million tokens

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=WAIT_S)
    at.query_params["job"] = job.id
    at.switch_page("pages/job.py")
    at = at.run()
    captions = "\n".join(c.value for c in at.caption)
    assert "2,000 input" in captions and "900 output" in captions and escape_markdown(f"cost {cost}") in captions
    assert f"_Usage: 1 call to {MODEL}" in at.code[0].value  # the Markdown's footer

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=WAIT_S)
    at.switch_page("pages/history.py")
    at = at.run()
    captions = "\n".join(c.value for c in at.caption)
    assert escape_markdown(f"cost {cost}") in captions  # the job's row
    assert "usage of this job" in captions and "2,000 input" in captions  # the filter's total
