"""Streaming one request of the briefing: its text as it arrives, its whole sections, its call record.

The SDK's stream is read event by event (`messages.stream`); the text goes into a `LiveBriefing`
that every part of one job shares, and that keeps, across the step's attempts, each section once it
can no longer change. SDK and transport errors are translated here, at the edge of the layer, into
`core.errors`: a stream silent past its read timeout (the idle limit) or cut off mid-reply is a
NetworkError, tried again like any transient error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import anthropic
import httpx2  # the SDK's HTTP client: its errors escape the SDK while a stream is read

from core.errors import (
    BadModelOutput,
    NetworkError,
    PermanentError,
    PipelineError,
    ServiceUnavailable,
    TransientError,
)
from core.usage import LlmCall
from pipeline.draft_reader import complete_sections, parse_partial, parse_whole, read_sections
from pipeline.models import Unverified
from pipeline.retry_after import retry_after_s

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 1.0  # the verified sections are checkpointed at most this often, seconds
TOKEN_CHARS = 4  # about one token per 4 characters of English: for estimates only, never billing
MAX_ERROR_DETAIL_CHARS = 200
UNAVAILABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
CUT_OFF = ("max_tokens", "model_context_window_exceeded")
FINISHED = ("end_turn", "stop_sequence", "tool_use")


class LiveBriefing:
    """What the model has written of one job's briefing: whole sections (the first version read
    of each is kept, so a part tried again never changes or repeats what was shown), items set
    aside, parts done, and the text of the parts streaming now. Shared by the threads of one job."""

    def __init__(self) -> None:
        self.sections: dict = {}  # BriefingDraft field name -> fitted value
        self.slips: list[Unverified] = []
        self.done_parts: set[str] = set()
        self.incomplete: list[str] = []  # why sections are missing, one note per cause
        self.stopping = False
        self._texts: dict[str, str] = {}
        self._fields: dict[str, tuple[str, ...]] = {}  # part -> the sections its schema asks for
        self._streams: dict[str, object] = {}
        self._lock = threading.Lock()
        self._last_checkpoint = time.monotonic()

    def begin(self, part: str, fields: tuple[str, ...], stream: object) -> None:
        """A part's stream opened for these sections: its text starts empty."""
        with self._lock:
            self._texts[part] = ""
            self._fields[part] = fields
            self._streams[part] = stream

    def add_text(self, part: str, text: str) -> None:
        """More text of a part's reply."""
        with self._lock:
            self._texts[part] = self._texts.get(part, "") + text

    def text(self, part: str) -> str:
        """The text of a part's reply so far."""
        with self._lock:
            return self._texts.get(part, "")

    def end(self, part: str) -> None:
        """A part's stream closed."""
        with self._lock:
            self._streams.pop(part, None)

    def keep(self, part: str, raw: dict) -> None:
        """Keep the sections of `raw` (whole sections by field name) that `part` asked for and
        that were not kept before."""
        asked = self._fields.get(part, ())
        new = {name: value for name, value in raw.items() if name in asked and name not in self.sections}
        if not new:
            return
        fitted, slips = read_sections(new)
        with self._lock:
            for name, value in fitted.items():
                self.sections.setdefault(name, value)
            self.slips.extend(slips)

    def refresh(self) -> None:
        """Keep every section that is whole in the text streamed so far."""
        with self._lock:
            texts = list(self._texts.items())
        for part, text in texts:
            self.keep(part, complete_sections(parse_partial(text), finished=False))

    def checkpoint_due(self) -> bool:
        """Whether CHECKPOINT_EVERY_S passed since the last checkpoint; if so the sections are
        refreshed and the clock restarts."""
        now = time.monotonic()
        if now - self._last_checkpoint < CHECKPOINT_EVERY_S:
            return False
        self._last_checkpoint = now
        self.refresh()
        return True

    @property
    def tokens(self) -> int:
        """About how many tokens the parts streaming in this attempt have written."""
        with self._lock:
            return sum(len(text) for text in self._texts.values()) // TOKEN_CHARS

    def start_attempt(self) -> None:
        """A new attempt: no stream is open, none is being stopped."""
        with self._lock:
            self._texts.clear()
            self._streams.clear()
            self.stopping = False

    def close_streams(self) -> None:
        """Close every open stream (from the job thread): their readers stop at once."""
        with self._lock:
            self.stopping = True
            streams = list(self._streams.values())
        for stream in streams:
            try:
                stream.close()
            except Exception:  # closing a stream that is failing anyway: nothing left to save
                log.debug("closing a stream failed", exc_info=True)


@dataclass
class PartReply:
    """How one part's request ended: its call record (None before the first event), and the
    error that makes it unusable, if any; `stopped` when the job thread closed it."""

    call: LlmCall | None
    error: PipelineError | None = None
    stopped: bool = False


def stream_part(
    llm: anthropic.Anthropic,
    part: str,
    fields: tuple[str, ...],
    request: dict,
    live: LiveBriefing,
    hook: Callable[[], None],
    idle_s: float,
) -> PartReply:
    """Stream one part's request for these sections (BriefingDraft field names) into `live`,
    calling `hook()` after every event (what it raises ends the stream and propagates); keep its
    whole sections; mark it done when it ended."""
    started_at = datetime.now(UTC)
    clock = time.monotonic()
    stream = None
    try:
        with llm.messages.stream(**request) as stream:
            live.begin(part, fields, stream)
            events = set()
            for event in stream:
                events.add(event.type)
                if event.type == "text":
                    live.add_text(part, event.text)
                hook()
            if "message_stop" not in events:  # the body ended early: a 200 that is no stream, or one cut short
                raise _EndedEarly(started="message_start" in events)
            message = stream.get_final_message()
    except (anthropic.AnthropicError, httpx2.HTTPError, _EndedEarly) as exc:
        live.end(part)
        call = _call_of(stream, request["model"], started_at, clock)
        if live.stopping:
            return PartReply(call, stopped=True)
        error = _translate(exc, llm.api_key, idle_s)
        error.__cause__ = exc
        if not isinstance(error, TransientError):
            live.incomplete.append(f"the {part} part failed: {error.message.rstrip('.')}")
        log.warning(
            "claude %s part failed model=%s duration_ms=%d error=%s",
            part,
            request["model"],
            _elapsed_ms(clock),
            type(error).__name__,
        )
        live.keep(part, complete_sections(parse_partial(live.text(part)), finished=False))
        return PartReply(call, error)
    live.end(part)
    call = _call_of(stream, request["model"], started_at, clock, message)
    log.info(
        "claude %s part model=%s input_tokens=%d output_tokens=%d cache_read=%d duration_ms=%d stop_reason=%s",
        part,
        call.model,
        call.input_tokens,
        call.output_tokens,
        call.cache_read_input_tokens,
        call.duration_ms,
        call.stop_reason,
    )
    live.done_parts.add(part)
    return PartReply(call, _read(live, part, fields, message.stop_reason))


def _read(live: LiveBriefing, part: str, fields: tuple[str, ...], stop_reason: str | None) -> PipelineError | None:
    """Keep the whole sections of a part's finished reply; the error when nothing in it is usable."""
    text = live.text(part)
    if stop_reason == "refusal":
        live.incomplete.append(f"Claude declined to write the {part} part")
        return BadModelOutput("The model declined to write this briefing.")
    whole = parse_whole(text) if stop_reason in FINISHED else None
    data = whole if whole is not None else parse_partial(text)
    found = complete_sections(data, finished=whole is not None)
    sections = {name: value for name, value in found.items() if name in fields}
    if stop_reason in CUT_OFF:
        live.incomplete.append(
            "Claude's reply was cut off at its length limit; the sections that arrived whole are shown"
        )
    if not sections:
        if stop_reason not in CUT_OFF:
            live.incomplete.append(f"the {part} part of Claude's reply could not be read")
        return BadModelOutput(
            "The model's reply was cut off before the briefing was complete."
            if stop_reason in CUT_OFF
            else "The model's reply was not the JSON briefing that was asked for."
        )
    live.keep(part, sections)
    return None


def _call_of(stream, model: str, started_at: datetime, clock: float, message=None) -> LlmCall | None:
    """The call record from the final message, or from the stream's snapshot (what message_start
    reported) when the stream broke; None when no event arrived."""
    if message is None:
        try:
            message = stream.current_message_snapshot if stream is not None else None
        except (AssertionError, AttributeError, RuntimeError):
            message = None
    usage = getattr(message, "usage", None)
    if usage is None:
        return None
    return LlmCall(
        model=message.model or model,
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_input_tokens=usage.cache_read_input_tokens or 0,
        cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
        duration_ms=_elapsed_ms(clock),
        started_at=started_at.isoformat(timespec="milliseconds"),
        stop_reason=message.stop_reason,
    )


class _EndedEarly(Exception):
    """A stream's body ended before its message_stop event."""

    def __init__(self, *, started: bool) -> None:
        super().__init__("ended early")
        self.started = started


def _translate(exc: Exception, api_key: str | None, idle_s: float | None = None) -> PipelineError:
    """The pipeline error for an SDK or transport error; its message never contains the key."""
    if isinstance(exc, _EndedEarly):
        if exc.started:
            return NetworkError("The connection to Claude broke off in the middle of its reply.")
        return BadModelOutput("Claude's API sent a reply that could not be read.")
    if isinstance(exc, httpx2.TimeoutException):
        return NetworkError(f"Claude's reply stalled: no event for {idle_s:g} s." if idle_s else "Claude timed out.")
    if isinstance(exc, httpx2.HTTPError):
        return NetworkError("The connection to Claude broke off in the middle of its reply.")
    if isinstance(exc, anthropic.APITimeoutError):
        return NetworkError(f"Claude's reply stalled: no event for {idle_s:g} s." if idle_s else "Claude timed out.")
    if isinstance(exc, anthropic.APIConnectionError):
        return NetworkError("Claude's API could not be reached.")
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 200:  # an `error` event in the middle of a stream that began well
            kind = ((exc.body or {}).get("error") or {}).get("type") if isinstance(exc.body, dict) else None
            status = {"overloaded_error": 529, "rate_limit_error": 429}.get(kind, 500)
        if status in UNAVAILABLE_STATUSES:
            retry_after = retry_after_s(exc.response.headers)
            if status == 429:
                message = "Claude's API is rate limiting requests; try again shortly."
            elif status == 529:
                message = "Claude is overloaded right now; try again shortly."
            else:
                message = f"Claude's API is temporarily unavailable (HTTP {status})."
            return ServiceUnavailable(message, retry_after=retry_after)
        if status == 401:
            return PermanentError("The Anthropic API key was rejected.")
        if status == 403:
            return PermanentError("The Anthropic API key is not allowed to do this.")
        detail = _redact(" ".join((exc.api_message or "").split())[:MAX_ERROR_DETAIL_CHARS], api_key)
        ending = f": {detail}" if detail else "."
        return PermanentError(f"Claude's API refused the request (HTTP {status}){ending}")
    if isinstance(exc, anthropic.APIResponseValidationError):
        return BadModelOutput("Claude's API sent a reply that could not be read.")
    return PermanentError("The call to Claude failed.")


def _redact(text: str, secret: str | None) -> str:
    """The text with the secret, if any, blanked out."""
    return text.replace(secret, "[redacted]") if secret else text


def _elapsed_ms(clock: float) -> int:
    """Milliseconds since `clock` (a time.monotonic() reading)."""
    return int((time.monotonic() - clock) * 1000)
