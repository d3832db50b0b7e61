"""What a candidate asks for, and the frozen camelCase model every value object is built on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

MAX_NAME_CHARS = 100
MAX_ROLE_CHARS = 120
MAX_URL_CHARS = 2048
MAX_POSTING_CHARS = 20_000


class Frozen(BaseModel):
    """Immutable model that serialises with the original camelCase field names."""

    model_config = ConfigDict(frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid")

    def to_json_dict(self) -> dict:
        """The camelCase JSON form, as the API and checkpoints store it."""
        return self.model_dump(mode="json", by_alias=True)


class ResearchRequest(Frozen):
    """What a candidate asked for: a company, maybe its site, maybe a role."""

    company_name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    company_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    role: str | None = Field(default=None, max_length=MAX_ROLE_CHARS)
    deep_mode: bool = False
    job_description: str | None = Field(default=None, max_length=MAX_POSTING_CHARS)
    job_description_url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    refresh: bool = False  # read the sources again instead of from the cache
