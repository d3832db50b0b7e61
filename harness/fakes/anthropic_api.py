"""A fake Anthropic Messages API (POST /v1/messages) you enqueue replies into.

By default it answers with a valid, deterministic BriefingDraft (camelCase JSON in a text block)
that names the company found on the request's "Company: ..." line. `enqueue()` scripts the next
replies: a dict (a draft to return), a str (raw reply text, e.g. not JSON), a `MessageReply`
(text with a chosen stop_reason) or a full `Reply` (HTTP errors, delays). Every request body is
kept in `calls`.

Auth: anthropic 2.14 sends the key as `Authorization: Bearer <key>`, not `x-api-key`, so either
header is accepted; anything else gets the API's 401.
"""

from __future__ import annotations

import json
import re
from collections import deque
from dataclasses import dataclass, field

from harness.fakes.server import FakeServer, Reply, Request

MESSAGES_PATH = "/v1/messages"
DEFAULT_KEY = "test-key"


@dataclass
class MessageReply:
    """A 200 Message reply with this text and stop_reason (None text: no content blocks), and the
    usage it reports (None: derived from the sizes of prompt and reply)."""

    text: str | None
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None
    delay_s: float = 0.0  # seconds before answering


@dataclass
class MessagesCall:
    """One request the fake received on /v1/messages, and the usage it answered with."""

    body: dict
    model: str
    system: str
    messages: list
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def user_text(self) -> str:
        """All text of the user turns, joined."""
        return "\n".join(_text_of(m.get("content")) for m in self.messages if m.get("role") == "user")


class FakeAnthropic(FakeServer):
    """Fake Messages API: valid briefing drafts by default, scripted replies on demand."""

    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.calls: list[MessagesCall] = []
        self._queue: deque[dict | str | MessageReply | Reply] = deque()

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, *replies: dict | str | MessageReply | Reply) -> None:
        """Answer the next authorised /v1/messages requests with these, in order."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget requests, calls and queued replies (between tests)."""
        super().reset()
        with self._lock:
            self.calls.clear()
            self._queue.clear()

    @staticmethod
    def draft(company: str = "Acme", prompt: str = "") -> dict:
        """The default valid BriefingDraft JSON (camelCase) for a company. Its facts quote the
        sources in `prompt` truthfully (the first sentence of the first page, the stack words the
        pages name); without sources, they carry no evidence and fail verification."""
        sources = sources_in(prompt)
        first = next(iter(sources.items()), None)
        overview = [{"text": f"{company} is described by its own website.", "evidence": []}]
        if first:
            sentence = sentences(first[1])[0]
            overview = [{"text": sentence, "evidence": [{"source": first[0], "quote": sentence}]}]
        stack = [
            {"text": word, "evidence": [quote_with(sources, word)]}
            for word in ("Python", "PostgreSQL", "Kubernetes")
            if quote_with(sources, word)
        ]
        posting = next((text for sid, text in sources.items() if f"--- Source {sid} (posting)" in prompt), "")
        role_fit = [
            {
                "requirement": line[2:].strip(),
                "evidence": [e for e in [quote_with(sources, "Python")] if e and "Python" in line],
                "finding": "The website says the fleet software is written in Python." if "Python" in line else "",
                "practiceQuestion": f"How have you shown this: {line[2:].strip()}?",
            }
            for line in posting.split("\n")
            if line.startswith("- ")
        ]
        return {
            "roleFit": role_fit,
            "overview": overview,
            "products": [
                {"text": word, "evidence": [quote_with(sources, word)]}
                for word in ("Acme Sorter",)
                if quote_with(sources, word)
            ],
            "techStack": stack,
            "salary": None,
            "salaryEstimate": None,
            "interviewQuestions": [
                {"text": f"Question {n} about {company}?", "requirement": n if n <= len(role_fit) else None}
                for n in range(1, 7)
            ],
            "preparationTips": [
                {"text": f"Read {company}'s engineering blog."},
                {"text": "Practise system design."},
                {"text": "Prepare STAR stories."},
            ],
            "keyTalkingPoints": [{"text": f"Your interest in {company}'s work."}],
            "topChallenges": [],
            "cultureInsights": [],
            "smartQuestions": [{"text": "How does the team decide what to build next?"}],
            "redFlags": [],
            "prepChecklist": [{"text": "Re-read the job description."}, {"text": "Test your video setup."}],
        }

    @classmethod
    def draft_missing_fields(cls, company: str = "Acme") -> dict:
        """A draft without interviewQuestions and preparationTips (fails validation)."""
        data = cls.draft(company)
        del data["interviewQuestions"], data["preparationTips"]
        return data

    @classmethod
    def cut_off(cls, company: str = "Acme") -> MessageReply:
        """A reply stopped by max_tokens: half a JSON draft."""
        text = json.dumps(cls.draft(company))
        return MessageReply(text[: len(text) // 2], stop_reason="max_tokens")

    @staticmethod
    def refusal() -> MessageReply:
        """A reply where the model declined."""
        return MessageReply("I can't help with that.", stop_reason="refusal")

    @staticmethod
    def error(status: int, error_type: str, message: str, **headers: str) -> Reply:
        """An API error reply in Anthropic's shape."""
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        return Reply.json(body, status, **{"request-id": "req_fake", **headers})

    @classmethod
    def overloaded(cls) -> Reply:
        """HTTP 529 overloaded_error."""
        return cls.error(529, "overloaded_error", "Overloaded")

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        """HTTP 5xx api_error."""
        return cls.error(status, "api_error", "Internal server error")

    @classmethod
    def rate_limited(cls, retry_after_s: int | None = None) -> Reply:
        """HTTP 429 rate_limit_error, with Retry-After when given."""
        headers = {"retry-after": str(retry_after_s)} if retry_after_s is not None else {}
        return cls.error(429, "rate_limit_error", "Rate limited", **headers)

    # -- serving ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Answer POST /v1/messages; 404 for anything else."""
        if request.path != MESSAGES_PATH or request.method != "POST":
            return self.error(404, "not_found_error", f"{request.method} {request.path} not found")
        if not self._authorised(request):
            return self.error(401, "authentication_error", "invalid x-api-key")
        try:
            body = request.json()
        except ValueError:
            return self.error(400, "invalid_request_error", "body is not JSON")
        call = MessagesCall(
            body=body,
            model=str(body.get("model", "")),
            system=_text_of(body.get("system")),
            messages=list(body.get("messages") or []),
        )
        with self._lock:
            self.calls.append(call)
            scripted = self._queue.popleft() if self._queue else None
        if isinstance(scripted, Reply):
            return scripted
        if isinstance(scripted, MessageReply):
            reply = self._message(call, scripted.text, scripted.stop_reason, scripted.usage)
            reply.delay_s = scripted.delay_s
            return reply
        if isinstance(scripted, dict):
            return self._message(call, json.dumps(scripted), "end_turn")
        if isinstance(scripted, str):
            return self._message(call, scripted, "end_turn")
        return self._message(call, json.dumps(self.draft(_company_in(call.user_text), call.user_text)), "end_turn")

    def _authorised(self, request: Request) -> bool:
        """Whether the request carries our key as x-api-key or as a Bearer token."""
        bearer = request.headers.get("authorization", "")
        return request.headers.get("x-api-key") == self.api_key or bearer == f"Bearer {self.api_key}"

    def _message(self, call: MessagesCall, text: str | None, stop_reason: str, usage: dict | None = None) -> Reply:
        """A 200 Message JSON; usage, unless given, is derived from the sizes of prompt and reply."""
        prompt_chars = len(call.system) + len(call.user_text)
        call.usage = usage or {"input_tokens": 10 + prompt_chars // 4, "output_tokens": 1 + len(text or "") // 4}
        content = [] if text is None else [{"type": "text", "text": text}]
        return Reply.json(
            {
                "id": f"msg_fake_{len(self.calls):04d}",
                "type": "message",
                "role": "assistant",
                "model": call.model,
                "content": content,
                "stop_reason": stop_reason,
                "stop_sequence": None,
                "usage": dict(call.usage),
            },
            **{"request-id": "req_fake"},
        )


_SOURCE_HEADER = re.compile(r"^--- Source (S\d+) \([a-z]+\): .*$", re.MULTILINE)


def sources_in(prompt: str) -> dict[str, str]:
    """The sources of a briefing prompt: id → the text shown under its header."""
    found: dict[str, str] = {}
    headers = list(_SOURCE_HEADER.finditer(prompt))
    for n, header in enumerate(headers):
        end = headers[n + 1].start() if n + 1 < len(headers) else len(prompt)
        text = prompt[header.end() : end]
        found[header.group(1)] = re.split(r"\n</untrusted_", text)[0].strip()
    return found


def sentences(text: str) -> list[str]:
    """The text's lines and sentences, whitespace collapsed (at least one, maybe empty)."""
    parts = [" ".join(p.split()) for line in text.split("\n") for p in re.split(r"(?<=[.!?])\s+", line)]
    return [p for p in parts if len(p) >= 8] or [" ".join(text.split())]


def quote_with(sources: dict[str, str], word: str) -> dict | None:
    """Evidence for `word`: the first sentence of any source that contains it."""
    for source_id, text in sources.items():
        for sentence in sentences(text):
            if re.search(rf"\b{re.escape(word)}\b", sentence):
                return {"source": source_id, "quote": sentence}
    return None


def _company_in(prompt: str) -> str:
    """The company named on the prompt's "Company:" line."""
    found = re.search(r"^Company:[ \t]*(.+)$", prompt, re.MULTILINE)
    return found.group(1).strip() if found else "the company"


def _text_of(content: object) -> str:
    """The text of a system/message content: a string or a list of text blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""
