"""The briefing while Claude writes it: its verified sections so far, as the status shows them."""

from __future__ import annotations

from pydantic.alias_generators import to_camel

from pipeline.model_stream import LiveBriefing
from pipeline.models import Briefing, BriefingDraft

# The keys of the stored briefing that each section of the draft fills.
_KEYS = {name: (to_camel(name),) for name in BriefingDraft.model_fields}
_KEYS["salary"] = _KEYS["salary_estimate"] = ("salary", "salarySource")
SECTION_KEYS = frozenset(key for keys in _KEYS.values() for key in keys)


def partial_meta(live: LiveBriefing, briefing: Briefing) -> dict:
    """The running attempt's meta: `partial`, the briefing with only the sections that are whole
    (verified and cleaned as the final one will be), and `writing`, what the progress line says."""
    data = briefing.to_json_dict()
    done = {key for name in live.sections for key in _KEYS[name]}
    partial = {key: value for key, value in data.items() if key not in SECTION_KEYS or key in done}
    names = [name.replace("_", " ") for name in BriefingDraft.model_fields if name in live.sections]
    return {"partial": partial, "writing": {"tokens": live.tokens, "done": names}}


def writing_line(writing: dict) -> str:
    """'writing the briefing: about 1 840 tokens; overview and products done'."""
    tokens = f"{writing.get('tokens', 0):,}".replace(",", " ")
    done = list(dict.fromkeys(name.replace("salary estimate", "salary") for name in writing.get("done") or []))
    line = f"writing the briefing: about {tokens} tokens"
    if done:
        line += f"; {', '.join(done[:-1])} and {done[-1]} done" if len(done) > 1 else f"; {done[0]} done"
    return line
