"""The one exception tree of the research pipeline.

PipelineError
├── InvalidInput            bad request data; nothing is queued
│   └── UnsafeUrl           the URL points somewhere we refuse to fetch
├── TransientError          worth another attempt (backoff retries only this branch)
│   ├── ServiceUnavailable  5xx, 529, 429 (with optional retry_after seconds)
│   └── NetworkError        connect/read failures and timeouts
└── PermanentError          another attempt would fail the same way
    ├── FetchRefused        the page is not something we read (type, size, robots, redirects)
    ├── NotFound            the thing looked up does not exist
    ├── BadModelOutput      the model's reply is not a valid briefing
    ├── StepTimeout         a step ran past its time limit
    └── JobCancelled        the candidate cancelled the job
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.usage import LlmCall


class PipelineError(Exception):
    """Something went wrong while researching a company."""

    kind = "error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())

    @property
    def message(self) -> str:
        """The sentence a person reads."""
        return str(self)


class InvalidInput(PipelineError):
    """The request is not valid."""

    kind = "invalid_input"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class UnsafeUrl(InvalidInput):
    """That address is not a public web site, so it is not fetched."""

    kind = "unsafe_url"


class TransientError(PipelineError):
    """A temporary failure; another attempt may succeed."""

    kind = "transient"
    retry_after: float | None = None


class ServiceUnavailable(TransientError):
    """The service is temporarily unavailable."""

    kind = "unavailable"

    def __init__(self, message: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NetworkError(TransientError):
    """The service could not be reached."""

    kind = "network"


class PermanentError(PipelineError):
    """A failure that another attempt would repeat."""

    kind = "permanent"


class FetchRefused(PermanentError):
    """The page was not read."""

    kind = "fetch_refused"


class NotFound(PermanentError):
    """Nothing was found."""

    kind = "not_found"


class BadModelOutput(PermanentError):
    """The model's reply was not a valid briefing."""

    kind = "bad_model_output"
    # The call that produced the unusable reply, when one came back: it still cost tokens, so the
    # engine logs it with the failed attempt. None when no reply (or no usage) was received.
    llm_call: LlmCall | None = None


class StepTimeout(PermanentError):
    """The step ran out of time."""

    kind = "timeout"


class JobCancelled(PermanentError):
    """The job was cancelled."""

    kind = "cancelled"
