"""Claude as it really behaves, end to end: streamed replies that stall, drop, arrive slowly or are
cancelled, checkpointed section by section into the status while the job runs."""

from __future__ import annotations

import json
import time

import pytest

from api.status_json import job_status
from core.request import ResearchRequest
from db import attempts
from harness.fakes.anthropic_api import FakeAnthropic, MessageReply
from harness.fakes.site import DEEP_PATHS, DESCRIPTION, HOME
from pipeline.analyze import FACTS, analyze_with_claude, min_cacheable_tokens, system_blocks
from pipeline.markdown import render_markdown
from pipeline.model_stream import LiveBriefing
from pipeline.verify import normalise, quote_occurs
from tests.test_analyze import GITHUB, MODEL, make_site
from tests.waiting import until

WAIT_S = 30
FACT_KEYS = ("overview", "products", "techStack", "topChallenges", "cultureInsights", "redFlags")


def _request(fake_site, **fields) -> ResearchRequest:
    return ResearchRequest(
        **{"company_name": "Acme Robotics", "company_url": fake_site.url, "role": "Backend Engineer", **fields}
    )


def _analyze_rows(runner, job_id: str) -> list:
    return [row for row in attempts.for_job(runner.engine, job_id) if row.step == "analyze-with-claude"]


def _slow(fake_anthropic: FakeAnthropic, tokens_per_s: float) -> None:
    """A model that writes full-size drafts at this rate."""
    fake_anthropic.full_drafts = True
    fake_anthropic.tokens_per_s = tokens_per_s


# -- the pipeline step on its own ------------------------------------------------------------


def test_sections_are_reported_as_they_complete_at_most_once_a_second(llm, fake_anthropic):
    _slow(fake_anthropic, 400)  # ~2 000 tokens over two parts: about 3 s
    seen: list[tuple[float, set[str]]] = []
    began = time.monotonic()

    analysis = analyze_with_claude(
        "Acme Rockets",
        make_site("Acme Rockets builds reusable rockets. Its engineers write Python."),
        GITHUB,
        "Backend Engineer",
        llm,
        model=MODEL,
        deadline=time.monotonic() + 30,
        on_progress=lambda live: seen.append((time.monotonic() - began, set(live.sections))),
    )

    times = [at for at, _ in seen]
    assert len(seen) >= 3
    assert all(b - a >= 0.9 for a, b in zip(times[1:], times[2:], strict=False))  # the first is at once
    grown = [names for _, names in seen]
    assert grown[1] and len(grown[1]) < len(grown[-1])  # sections arrived one by one, before the end
    assert all(a <= b for a, b in zip(grown, grown[1:], strict=False))  # a section once shown stays
    assert set(grown[-1]) <= set(type(analysis.draft).model_fields)


def test_a_dropped_stream_keeps_its_whole_sections_and_the_retry_never_repeats_them(llm, fake_anthropic):
    site = make_site("Acme Rockets builds reusable rockets.")
    live = LiveBriefing()
    full = FakeAnthropic.draft("Acme Rockets")
    first_facts = json.dumps({k: full[k] for k in ("overview", "products", "techStack", "salary")})
    fake_anthropic.enqueue(MessageReply(first_facts + "garbage", drop_after_tokens=len(first_facts) // 4 - 2))

    with pytest.raises(Exception) as caught:
        analyze_with_claude(
            "Acme Rockets", site, GITHUB, None, llm, model=MODEL, deadline=time.monotonic() + 10, live=live
        )

    assert "broke off" in str(caught.value)
    assert "overview" in live.sections and "coaching" in live.done_parts and "facts" not in live.done_parts
    shown = live.sections["overview"]
    fake_anthropic.enqueue({**full, "overview": [{"text": "A different overview.", "evidence": []}]})

    analysis = analyze_with_claude(
        "Acme Rockets", site, GITHUB, None, llm, model=MODEL, deadline=time.monotonic() + 10, live=live
    )

    assert len(fake_anthropic.calls) == 3  # facts, coaching, then facts again: coaching was done
    assert analysis.draft.overview == shown  # the section shown before the drop, not a second version
    assert analysis.draft.top_challenges == [] and analysis.draft.interview_questions


def test_a_stall_past_the_idle_limit_is_a_transient_network_error(llm, fake_anthropic):
    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), stall_after_tokens=20, stall_s=6.0))
    began = time.monotonic()

    with pytest.raises(Exception, match="stalled: no event for 0.5 s"):
        analyze_with_claude(
            "Acme", make_site(), GITHUB, None, llm, model=MODEL, deadline=time.monotonic() + 10, idle_s=0.5
        )

    assert time.monotonic() - began < 4  # given up at the idle limit (0.5 s), not after the 6 s stall


def test_an_error_event_mid_stream_is_service_unavailable(llm, fake_anthropic):
    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), error_after_tokens=10))

    with pytest.raises(Exception, match="overloaded") as caught:
        analyze_with_claude("Acme", make_site(), GITHUB, None, llm, model=MODEL, deadline=time.monotonic() + 10)

    assert caught.value.kind == "unavailable"


def test_the_static_prefix_is_cached_only_where_the_model_can_cache_it_and_then_it_hits(llm, fake_anthropic):
    assert "cache_control" in system_blocks(FACTS, "claude-sonnet-5-5")[0]
    assert "cache_control" not in system_blocks(FACTS, "claude-haiku-4-5")[0]  # under Haiku's 4 096 tokens
    assert min_cacheable_tokens("some-unknown-model") == 4096

    for _ in range(2):
        analyze_with_claude(
            "Acme", make_site(), GITHUB, None, llm, model="claude-sonnet-5-5", deadline=time.monotonic() + 10
        )

    first, second = fake_anthropic.calls[:2], fake_anthropic.calls[2:]
    assert all(call.usage["cache_creation_input_tokens"] > 0 for call in first)
    assert all(call.usage["cache_read_input_tokens"] > 0 for call in second)
    assert all(call.usage["cache_creation_input_tokens"] == 0 for call in second)


# -- jobs --------------------------------------------------------------------------------------


def test_a_stall_is_tried_again_and_the_job_completes_with_claude(make_runner, fake_site, fake_anthropic):
    runner = make_runner(PREP_MODEL_IDLE_S="0.5")
    fake_anthropic.enqueue(MessageReply(json.dumps(FakeAnthropic.draft()), stall_after_tokens=8, stall_s=3.0))

    job, _ = runner.submit(_request(fake_site))
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)

    assert status["status"] == "completed" and status["briefing"]["analysisMode"] == "claude"
    rows = _analyze_rows(runner, job.id)
    assert [row.error_kind for row in rows] == ["network", None]
    assert "stalled" in rows[0].error_message
    assert status["briefing"]["incomplete"] is None


def test_status_carries_partial_verified_sections_while_claude_writes(runner, fake_site, fake_anthropic):
    _slow(fake_anthropic, 150)  # ~2 000 tokens over two parts: ~8 s
    job, _ = runner.submit(_request(fake_site, deep_mode=True))

    status = until(
        lambda: (s := job_status(runner.engine, job.id))["partial"] and s["partial"].get("overview") and s,
        "a verified section while the job runs",
        WAIT_S,
    )

    assert status["status"] == "processing" and status["results"] is None
    assert "writing the briefing: about" in status["message"] and "overview" in status["message"]
    partial = status["partial"]
    assert partial["companyName"] == "Acme Robotics" and partial["analysisMode"] == "claude"
    assert "interviewQuestions" not in partial or partial["interviewQuestions"]
    runner.wait(job.id, timeout_s=WAIT_S)
    final = job_status(runner.engine, job.id)
    assert final["partial"] is None and final["briefing"]["overview"][: len(partial["overview"])] == partial["overview"]


def test_partial_never_holds_an_unverified_item(runner, fake_site, fake_anthropic):
    fake_anthropic.tokens_per_s = 150
    slipping = FakeAnthropic.slipping_draft("Acme Robotics")  # quotes that are not in any source
    slipping["overview"].append(
        {"text": "Acme has 9 000 employees.", "evidence": [{"source": "S1", "quote": "9 000 staff"}]}
    )
    fake_anthropic.enqueue(slipping)
    job, _ = runner.submit(_request(fake_site, deep_mode=True))
    texts = [normalise(t) for t in (HOME, DESCRIPTION, *(fake_site.text_of(p) for p in DEEP_PATHS))]
    partials = []

    def collect():
        status = job_status(runner.engine, job.id)
        if status["partial"]:
            partials.append(status["partial"])
        return status["status"] == "completed"

    until(collect, "the job to complete", WAIT_S)

    assert partials
    for partial in partials:
        for key in FACT_KEYS:
            for item in partial.get(key, []):
                assert item["citations"], item
                assert all(any(quote_occurs(c["quote"], text) for text in texts) for c in item["citations"])
        assert "Acme has 9 000 employees." not in json.dumps({k: partial.get(k) for k in FACT_KEYS})


def test_cancel_during_a_stream_stops_it(runner, fake_site, fake_anthropic):
    _slow(fake_anthropic, 40)  # a minute of writing
    job, _ = runner.submit(_request(fake_site))
    until(lambda: job_status(runner.engine, job.id)["partial"] is not None, "Claude to start writing", WAIT_S)
    cancelled_at = time.monotonic()

    runner.cancel(job.id)
    runner.wait(job.id, timeout_s=WAIT_S)

    assert time.monotonic() - cancelled_at < 5  # within the checkpoint period, not after the stream ends
    status = job_status(runner.engine, job.id)
    assert status["status"] == "cancelled" and status["results"] is None
    assert [row.error_kind for row in _analyze_rows(runner, job.id)] == ["cancelled"]


def test_a_cut_off_reply_is_shown_as_cut_off(runner, fake_site, fake_anthropic):
    fake_anthropic.enqueue(FakeAnthropic.cut_off("Acme Robotics"))

    job, _ = runner.submit(_request(fake_site))
    runner.wait(job.id, timeout_s=WAIT_S)
    status = job_status(runner.engine, job.id)

    assert status["status"] == "completed" and status["briefing"]["analysisMode"] == "claude"
    assert "cut off at its length limit" in status["briefing"]["incomplete"]
    assert "It is incomplete: Claude's reply was cut off" in status["message"]
    assert "> **Incomplete:** Claude's reply was cut off" in render_markdown(status["briefing"])


def test_the_fake_streams_a_forced_tool_call_as_input_json_deltas(llm, fake_anthropic):
    draft = FakeAnthropic.draft()
    tool = {"name": "briefing", "description": "The briefing.", "input_schema": {"type": "object"}}

    with llm.messages.stream(
        model=MODEL,
        max_tokens=4000,
        messages=[{"role": "user", "content": "Company: Acme"}],
        tools=[tool],
        tool_choice={"type": "tool", "name": "briefing"},
    ) as stream:
        kinds = {event.type for event in stream}
        message = stream.get_final_message()

    assert "input_json" in kinds and "text" not in kinds
    assert message.stop_reason == "tool_use" and message.content[0].input == draft
