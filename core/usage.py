"""What a job's calls to Claude cost: tokens summed over every attempt, priced from a table.

Every attempt that got a reply back records its call (model and token counts) in its `meta`,
failed attempts and replies that arrived after the step's deadline included, so the sum is what
the job really spent. Prices are USD per million tokens; `PREP_PRICES` (JSON, or the path of a
JSON file) adds models or overrides these.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.request import Frozen

TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are quoted per million tokens


class Price(BaseModel):
    """One model's prices, USD per million tokens; cache writes at the 5-minute rate (the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float = Field(ge=0, alias="cacheRead")
    cache_write: float = Field(ge=0, alias="cacheWrite")


# Anthropic's published API prices for the models this tool is configured with by default and their
# neighbours (platform.claude.com model pages, checked 2026-11-29; Sonnet 5.5's cache reads were cut
# to $0.10 on 2026-10-07). Models priced by prompt length (Haiku 5.5) are left to PREP_PRICES.
DEFAULT_PRICES: Mapping[str, Price] = {
    "claude-sonnet-5-5": Price(input=2.00, output=10.00, cache_read=0.10, cache_write=2.50),
    "claude-sonnet-5": Price(input=2.00, output=10.00, cache_read=0.20, cache_write=2.50),
    "claude-opus-5-5": Price(input=4.00, output=20.00, cache_read=0.20, cache_write=5.00),
    "claude-opus-5": Price(input=5.00, output=25.00, cache_read=0.50, cache_write=6.25),
    "claude-haiku-4-5": Price(input=1.00, output=5.00, cache_read=0.10, cache_write=1.25),
}


def load_prices(setting: str | None) -> dict[str, Price]:
    """The default table with PREP_PRICES merged over it; ValueError saying what is wrong."""
    table = dict(DEFAULT_PRICES)
    if not setting:
        return table
    text = setting
    if not setting.lstrip().startswith("{"):
        try:
            text = Path(setting).read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"PREP_PRICES: cannot read the file {setting!r}: {error.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("PREP_PRICES is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError('PREP_PRICES must be an object: {"model": {"input": …, "output": …, …}}')
    for model, prices in data.items():
        try:
            table[model] = Price.model_validate(prices)
        except ValidationError as error:
            problem = error.errors(include_url=False)[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise ValueError(f"PREP_PRICES[{model!r}].{where}: {problem['msg']}") from None
    return table


def price_for(model: str, prices: Mapping[str, Price]) -> Price | None:
    """The model's price: its exact id, else the longest priced id it extends (a dated snapshot)."""
    if model in prices:
        return prices[model]
    matches = [name for name in prices if model.startswith(f"{name}-")]
    return prices[max(matches, key=len)] if matches else None


@dataclass
class Tokens:
    """Token counts of one or more calls to one model."""

    calls: int = 0
    input: int = 0
    output: int = 0
    cache_read: int = 0
    cache_write: int = 0

    def add(self, other: Tokens) -> None:
        """Add another count to this one."""
        self.calls += other.calls
        self.input += other.input
        self.output += other.output
        self.cache_read += other.cache_read
        self.cache_write += other.cache_write

    @classmethod
    def of_call(cls, call: Mapping) -> Tokens:
        """The counts of one logged call (an attempt's meta["llmCall"])."""
        return cls(
            int(call.get("requests") or 1),  # one record sums the requests of a briefing's parts
            int(call.get("inputTokens") or 0),
            int(call.get("outputTokens") or 0),
            int(call.get("cacheReadInputTokens") or 0),
            int(call.get("cacheCreationInputTokens") or 0),
        )


@dataclass(frozen=True)
class Usage:
    """Tokens and cost of a set of calls; cost_usd is None when a model has no price."""

    tokens: Tokens = field(default_factory=Tokens)
    models: tuple[str, ...] = ()
    cost_usd: float | None = 0.0

    def to_json_dict(self) -> dict:
        """The camelCase form the API and the stored attempts carry."""
        return {
            "calls": self.tokens.calls,
            "models": list(self.models),
            "inputTokens": self.tokens.input,
            "outputTokens": self.tokens.output,
            "cacheReadTokens": self.tokens.cache_read,
            "cacheWriteTokens": self.tokens.cache_write,
            "costUsd": self.cost_usd,
        }


def priced(by_model: Mapping[str, Tokens], prices: Mapping[str, Price]) -> Usage:
    """Sum per-model counts and price them; the cost is None when any of the models has no price."""
    total = Tokens()
    cost = 0.0
    known = True
    for model, tokens in by_model.items():
        total.add(tokens)
        price = price_for(model, prices)
        if price is None:
            known = False
            continue
        cost += (
            tokens.input * price.input
            + tokens.output * price.output
            + tokens.cache_read * price.cache_read
            + tokens.cache_write * price.cache_write
        ) / TOKENS_PER_PRICE_UNIT
    return Usage(total, tuple(sorted(by_model)), round(cost, 6) if known else None)


def usage_of(metas: Iterable[Mapping | None], prices: Mapping[str, Price]) -> Usage:
    """The usage of every call recorded in these attempt metas (metas without a call count for 0)."""
    by_model: dict[str, Tokens] = {}
    for meta in metas:
        call = (meta or {}).get("llmCall")
        if call:
            by_model.setdefault(str(call.get("model") or "unknown"), Tokens()).add(Tokens.of_call(call))
    return priced(by_model, prices)


def cost_text(usage: Usage) -> str:
    """The cost as a person reads it: '$0.0123', '$0', 'unknown'."""
    if usage.cost_usd is None:
        return "unknown"
    return "$0" if usage.cost_usd == 0 else f"${usage.cost_usd:,.4f}"


def describe(usage: Usage) -> str:
    """One line: tokens by kind, the model and the cost, e.g. for the page and the document footer."""
    calls = usage.tokens.calls
    if not calls:
        return "no calls to Claude, cost $0."
    parts = [
        f"{usage.tokens.input:,} input",
        f"{usage.tokens.output:,} output",
        f"{usage.tokens.cache_read:,} cache-read",
        f"{usage.tokens.cache_write:,} cache-write tokens",
    ]
    cost = cost_text(usage)
    if cost == "unknown":
        cost = "unknown (no price for this model; set PREP_PRICES)"
    return f"{calls} call{'s' if calls != 1 else ''} to {', '.join(usage.models)}: {', '.join(parts)}; cost {cost}."


class LlmCall(Frozen):
    """One logged call to the model: what ran, what it cost, how long it took."""

    model: str
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    duration_ms: int
    started_at: str  # ISO 8601, UTC
    stop_reason: str | None = None
    requests: int = 1  # requests this record sums (the parts of one briefing run at once)
