"""A fake Anthropic Messages API (POST /v1/messages) you enqueue replies into.

By default it answers with a valid, deterministic BriefingDraft (camelCase JSON in a text block)
that names the company found on the request's "Company: ..." line. `enqueue()` scripts the next
replies: a dict (a whole draft: every request for another part of the same prompt's briefing gets
its own sections of it, as one model would write them), a str (raw reply text, e.g. not JSON), a
`MessageReply` (text with a chosen stop_reason) or a full `Reply` (HTTP errors, delays); each of
the last three answers one request. Every request body is kept in `calls`.

Auth: anthropic 2.14 sends the key as `Authorization: Bearer <key>`, not `x-api-key`, so either
header is accepted; anything else gets the API's 401.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from harness.fakes.server import FakeServer, Reply, Request

MESSAGES_PATH = "/v1/messages"
DEFAULT_KEY = "test-key"


@dataclass
class MessageReply:
    """A 200 Message reply with this text and stop_reason (None text: no content blocks), the usage
    it reports (None: derived from the sizes of prompt and reply), and how a stream of it misbehaves."""

    text: str | None
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None
    delay_s: float = 0.0  # seconds before answering
    stall_after_tokens: int | None = None  # a stream goes silent (no event, no ping) after this many tokens
    stall_s: float = 0.0  # for this long, seconds
    drop_after_tokens: int | None = None  # the connection is reset after this many tokens
    error_after_tokens: int | None = None  # an `overloaded_error` event arrives after this many tokens


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

    @property
    def schema_keys(self) -> list[str] | None:
        """The top-level properties of the requested JSON schema (None: no structured output)."""
        schema = ((self.body.get("output_config") or {}).get("format") or {}).get("schema")
        return list(schema.get("properties") or {}) if isinstance(schema, dict) else None


class FakeAnthropic(FakeServer):
    """Fake Messages API: valid briefing drafts by default, scripted replies on demand.

    A request with `"stream": true` gets server-sent events as Anthropic sends them; one without
    gets one Message. Knobs (defaults: as fast as the loopback allows): `ttft_s` (seconds to the
    first token), `tokens_per_s` (the writing rate; 0: no pacing), `full_drafts` (default drafts
    the size of a real briefing, ~2 300 tokens, instead of a small one). A reply longer than the
    request's `max_tokens` is cut there with stop_reason "max_tokens", as the API does. A draft is
    trimmed to the properties of the requested schema, so a request for part of the briefing gets
    that part. Prompt caching follows the API's rules: a prefix marked with `cache_control` is
    written when it is at least the model's minimum length, readable once the writing request's
    first token is out, and kept CACHE_TTL_S from its last use.
    """

    def __init__(self, api_key: str = DEFAULT_KEY) -> None:
        super().__init__()
        self.api_key = api_key
        self.calls: list[MessagesCall] = []
        self._queue: deque[dict | str | MessageReply | Reply] = deque()
        self._cache: dict[str, tuple[float, float]] = {}  # prefix hash -> (readable from, expires), monotonic s
        self._drafts: dict[str, tuple[dict, set[frozenset]]] = {}  # prompt -> queued draft, schemas served
        self.ttft_s = 0.0
        self.tokens_per_s = 0.0
        self.full_drafts = False

    # -- scripting -------------------------------------------------------------------------

    def enqueue(self, *replies: dict | str | MessageReply | Reply) -> None:
        """Answer the next authorised /v1/messages requests with these, in order."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self) -> None:
        """Forget requests, calls, queued replies and the prompt cache; knobs back to fast."""
        super().reset()
        with self._lock:
            self.calls.clear()
            self._queue.clear()
            self._cache.clear()
            self._drafts.clear()
            self.ttft_s = self.tokens_per_s = 0.0
            self.full_drafts = False

    @staticmethod
    def draft(company: str = "Acme", prompt: str = "", *, full: bool = False) -> dict:
        """The default valid BriefingDraft JSON (camelCase) for a company. Its facts quote the
        sources in `prompt` truthfully, each kind where a real briefing uses it: the first sentence
        of the first page, the stack words the pages name (with the repository whose language it
        is), the posting's requirements, Wikipedia's first statement, the job board's teams, the
        blog's newest post; a `discussion` story only as a thing to look into and a talking point,
        never as company fact. Without sources, the facts carry no evidence and fail verification.
        `full`: every section as long as a real briefing writes it (~2 300 tokens), each fact
        quoting a sentence."""
        kinds = source_kinds(prompt)
        sources = sources_in(prompt)
        facts = {sid: text for sid, text in sources.items() if kinds[sid] != "discussion"}  # what the company says
        of_kind = {kind: [sid for sid in sources if kinds[sid] == kind] for kind in set(kinds.values())}
        first = next(iter(facts.items()), None)
        overview = [{"text": f"{company} is described by its own website.", "evidence": []}]
        if first:
            sentence = sentences(first[1])[0]
            overview = [{"text": sentence, "evidence": [{"source": first[0], "quote": sentence}]}]
        for sid in of_kind.get("wikipedia", [])[:1]:
            said = statement(sources[sid])
            overview.append({"text": f"Wikipedia: {said}", "evidence": [{"source": sid, "quote": said}]})
        stack = [
            {"text": word, "evidence": [quote_with(facts, word), *_language_lines(sources, of_kind, word)][:4]}
            for word in ("Python", "PostgreSQL", "Kubernetes")
            if quote_with(facts, word)
        ]
        posting = next((sources[sid] for sid in of_kind.get("posting", [])), "")
        role_fit = [
            {
                "requirement": line[2:].strip(),
                "evidence": [e for e in [quote_with(facts, "Python")] if e and "Python" in line],
                "finding": "The website says the fleet software is written in Python." if "Python" in line else "",
                "practiceQuestion": f"How have you shown this: {line[2:].strip()}?",
            }
            for line in posting.split("\n")
            if line.startswith("- ")
        ]
        hiring = [
            {
                "text": f"{company} is hiring, {line[:1].lower()}{line[1:]}.",
                "evidence": [{"source": sid, "quote": line}],
            }
            for sid in of_kind.get("job-board", [])[:1]
            for line in [_line_of(sources[sid], "By team:") or sentences(sources[sid])[0]]
        ]
        blog = [
            {"text": f"The engineering blog writes: {said}", "evidence": [{"source": sid, "quote": said}]}
            for sid in of_kind.get("blog", [])[:1]
            for said in [statement(sources[sid].replace(" — ", "\n"))]  # a feed line: date — title — summary
        ]
        # A discussion source is its third-party label, then the story's title, on lines of their own.
        stories = [(sid, sources[sid].split("\n")[1].strip()) for sid in of_kind.get("discussion", [])[:1]]
        draft = {
            "roleFit": role_fit,
            "overview": overview,
            "products": [
                {"text": word, "evidence": [quote_with(facts, word)]}
                for word in ("Acme Sorter",)
                if quote_with(facts, word)
            ],
            "techStack": stack,
            "salary": None,
            "salaryEstimate": None,
            "interviewQuestions": [
                {"text": f"Question {n} about {company}?", "requirement": n if n <= len(role_fit) else None}
                for n in range(1, 7)
            ],
            "preparationTips": [
                {"text": f"Read {company}'s engineering blog.", "sources": of_kind.get("blog", [])[:1]},
                {"text": "Practise system design."},
                {"text": "Prepare STAR stories."},
            ],
            "keyTalkingPoints": [
                {"text": f"Your interest in {company}'s work."},
                *(
                    {"text": f"Ask what the team learnt from the story people discussed: {title}", "sources": [sid]}
                    for sid, title in stories
                ),
            ],
            "topChallenges": hiring,
            "cultureInsights": blog,
            "smartQuestions": [{"text": "How does the team decide what to build next?"}],
            "redFlags": [
                {
                    "text": f"Look into what others said (third-party discussion on Hacker News): {title}",
                    "evidence": [{"source": sid, "quote": title}],
                }
                for sid, title in stories
            ],
            "prepChecklist": [{"text": "Re-read the job description."}, {"text": "Test your video setup."}],
        }
        if not full:
            return draft
        company_sources = {sid: text for sid, text in facts.items() if kinds[sid] != "posting"}
        return _full(draft, company, company_sources)

    @classmethod
    def draft_missing_fields(cls, company: str = "Acme") -> dict:
        """A draft without interviewQuestions and preparationTips."""
        data = cls.draft(company)
        del data["interviewQuestions"], data["preparationTips"]
        return data

    @classmethod
    def slipping_draft(cls, company: str = "Acme", prompt: str = "") -> dict:
        """A draft that breaks every limit structured outputs cannot enforce: seven tips where at
        most five are allowed, six quotes for one claim where at most four are, a 3 000-character
        talking point, a requirement number of 0, and "S1, S2" as a source id."""
        data = cls.draft(company, prompt)
        data["preparationTips"] = [{"text": f"Tip {n} for {company}."} for n in range(1, 8)]
        claim = data["overview"][0]
        claim["evidence"] = (claim["evidence"] * 6)[:6] or [{"source": "S1", "quote": "x"}] * 6
        data["keyTalkingPoints"] = [{"text": "Talk about the fleet. " * 140}]
        data["interviewQuestions"][0]["requirement"] = 0
        data["products"] = [{"text": "Acme Sorter", "evidence": [{"source": "S1, S2", "quote": "The Acme Sorter"}]}]
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
            remembered = self._drafts.get(call.user_text)
            keys = frozenset(call.schema_keys or ())
            if remembered is not None and keys not in remembered[1]:
                remembered[1].add(keys)  # another part of the same briefing: the same draft, trimmed
                scripted = remembered[0]
            else:
                scripted = self._queue.popleft() if self._queue else None
                if isinstance(scripted, dict):
                    self._drafts[call.user_text] = (scripted, {keys})
        if isinstance(scripted, Reply):
            return scripted
        if isinstance(scripted, MessageReply):
            return self._message(call, scripted)
        if isinstance(scripted, dict):
            return self._message(call, MessageReply(json.dumps(_trimmed(scripted, call.schema_keys))))
        if isinstance(scripted, str):
            return self._message(call, MessageReply(scripted))
        draft = self.draft(_company_in(call.user_text), call.user_text, full=self.full_drafts)
        return self._message(call, MessageReply(json.dumps(_trimmed(draft, call.schema_keys))))

    def _authorised(self, request: Request) -> bool:
        """Whether the request carries our key as x-api-key or as a Bearer token."""
        bearer = request.headers.get("authorization", "")
        return request.headers.get("x-api-key") == self.api_key or bearer == f"Bearer {self.api_key}"

    def _message(self, call: MessagesCall, reply: MessageReply) -> Reply:
        """The reply as one Message JSON, or as server-sent events when the request streams."""
        text, stop_reason = reply.text, reply.stop_reason
        max_tokens = int(call.body.get("max_tokens") or 0)
        if text is not None and max_tokens and tokens_in(text) > max_tokens:
            text, stop_reason = text[: max_tokens * TOKEN_CHARS], "max_tokens"
        call.usage = dict(reply.usage or {**self._input_usage(call), "output_tokens": 1 + tokens_in(text or "")})
        tool = _forced_tool(call.body)
        content: list[dict] = [] if text is None else [{"type": "text", "text": text}]
        if tool and text is not None:
            try:
                content = [{"type": "tool_use", "id": "toolu_fake", "name": tool, "input": json.loads(text)}]
            except ValueError:
                pass  # not JSON: the model wrote text instead of calling the tool
        message = {
            "id": f"msg_fake_{len(self.calls):04d}",
            "type": "message",
            "role": "assistant",
            "model": call.model,
            "content": content,
            "stop_reason": "tool_use"
            if content and content[0]["type"] == "tool_use" and stop_reason == "end_turn"
            else stop_reason,
            "stop_sequence": None,
            "usage": dict(call.usage),
        }
        writing_s = tokens_in(text or "") / self.tokens_per_s if self.tokens_per_s else 0.0
        if not call.body.get("stream"):
            answer = Reply.json(message, **{"request-id": "req_fake"})
            answer.delay_s = reply.delay_s + self.ttft_s + writing_s
            return answer
        events, drop_at = self._events(message, text or "", reply)
        answer = Reply(
            200,
            _paced(events),
            {"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "request-id": "req_fake"},
            delay_s=reply.delay_s,
        )
        answer.reset_after_bytes = drop_at
        return answer

    def _events(self, message: dict, text: str, reply: MessageReply) -> tuple[list[tuple[float, bytes]], int | None]:
        """The SSE events of a message, each with the time after the request it is due (seconds),
        and the byte offset where the connection drops, if it does."""
        usage = message["usage"]
        start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
        events: list[tuple[float, bytes]] = [(self.ttft_s, _sse("message_start", {"message": start}))]
        events.append((self.ttft_s, _sse("ping", {})))
        drop_at = None
        if message["content"]:
            block = message["content"][0]
            opened = {**block, "input": {}} if block["type"] == "tool_use" else {"type": "text", "text": ""}
            events.append((self.ttft_s, _sse("content_block_start", {"index": 0, "content_block": opened})))
            at, written, last_ping = self.ttft_s, 0, self.ttft_s
            for n in range(0, len(text), DELTA_TOKENS * TOKEN_CHARS):
                piece = text[n : n + DELTA_TOKENS * TOKEN_CHARS]
                if reply.error_after_tokens is not None and written >= reply.error_after_tokens:
                    error = {"error": {"type": "overloaded_error", "message": "Overloaded"}}
                    events.append((at, _sse("error", error)))
                    return events, None
                if reply.drop_after_tokens is not None and written >= reply.drop_after_tokens:
                    return events, sum(len(chunk) for _, chunk in events)
                if reply.stall_after_tokens is not None and written >= reply.stall_after_tokens:
                    at += reply.stall_s
                    reply = replace(reply, stall_after_tokens=None)
                written += tokens_in(piece)
                at += tokens_in(piece) / self.tokens_per_s if self.tokens_per_s else 0.0
                if at - last_ping >= PING_EVERY_S:
                    events.append((at, _sse("ping", {})))
                    last_ping = at
                kind = {"type": "input_json_delta", "partial_json": piece} if block["type"] == "tool_use" else None
                delta = {"index": 0, "delta": kind or {"type": "text_delta", "text": piece}}
                events.append((at, _sse("content_block_delta", delta)))
            events.append((at, _sse("content_block_stop", {"index": 0})))
        else:
            at = self.ttft_s
        delta = {
            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": usage["output_tokens"]},
        }
        events.append((at, _sse("message_delta", delta)))
        events.append((at, _sse("message_stop", {})))
        return events, drop_at

    def _input_usage(self, call: MessagesCall) -> dict[str, int]:
        """Input tokens of a request, split into cache reads, cache writes and the rest."""
        schema = json.dumps(((call.body.get("output_config") or {}).get("format") or {}).get("schema") or {})
        total = 10 + (len(call.system) + len(call.user_text) + len(schema)) // TOKEN_CHARS
        prefix = _cached_prefix(call.body)
        usage = {"input_tokens": total, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
        if prefix is None:
            return usage
        prefix_tokens = tokens_in(prefix)
        if prefix_tokens < min_cacheable_tokens(call.model):
            return usage  # as the API does: too short to cache, no error, no charge
        key = hashlib.sha256(prefix.encode()).hexdigest()
        now = time.monotonic()
        with self._lock:
            readable, expires = self._cache.get(key, (0.0, 0.0))
            hit = readable <= now < expires
            self._cache[key] = (readable if hit else now + self.ttft_s, now + CACHE_TTL_S)
        usage["cache_read_input_tokens" if hit else "cache_creation_input_tokens"] = prefix_tokens
        usage["input_tokens"] = max(0, total - prefix_tokens)
        return usage


TOKEN_CHARS = 4  # the fake counts one token per 4 characters, about what Claude's tokenizer gives for English
DELTA_TOKENS = 4  # tokens per content_block_delta, as Claude's deltas carry a few tokens each
PING_EVERY_S = 5.0  # the API sends a ping now and then while a long reply is written
CACHE_TTL_S = 300.0  # a cache entry lives 5 minutes from its last use
# The shortest prefix each model caches (Anthropic's prompt caching page); others: the largest minimum.
MIN_CACHEABLE_TOKENS = {"claude-opus-5": 512, "claude-sonnet-5": 1024, "claude-haiku-4-5": 4096}
DEFAULT_MIN_CACHEABLE_TOKENS = 4096


def min_cacheable_tokens(model: str) -> int:
    """The shortest prefix `model` caches, in tokens."""
    found = [name for name in MIN_CACHEABLE_TOKENS if model.startswith(name)]
    return MIN_CACHEABLE_TOKENS[max(found, key=len)] if found else DEFAULT_MIN_CACHEABLE_TOKENS


def tokens_in(text: str) -> int:
    """Tokens the fake counts for a text."""
    return -(-len(text) // TOKEN_CHARS)


def _cached_prefix(body: dict) -> str | None:
    """The request up to its last `cache_control` breakpoint (schema, system, then messages) as
    one string, or None when nothing is marked."""
    schema = json.dumps(((body.get("output_config") or {}).get("format") or {}).get("schema") or {}, sort_keys=True)
    blocks: list[dict] = []
    system = body.get("system")
    blocks += system if isinstance(system, list) else [{"text": system or ""}]
    for message in body.get("messages") or []:
        content = message.get("content")
        blocks += content if isinstance(content, list) else [{"text": content or ""}]
    marked = [n for n, block in enumerate(blocks) if isinstance(block, dict) and block.get("cache_control")]
    if not marked:
        return None
    return "\n".join([str(body.get("model")), schema, *(str(b.get("text", "")) for b in blocks[: marked[-1] + 1])])


def _forced_tool(body: dict) -> str | None:
    """The tool a request forces the model to call (tool_choice type "tool"), if any."""
    choice = body.get("tool_choice") or {}
    return choice.get("name") if choice.get("type") == "tool" else None


def _sse(event: str, data: dict) -> bytes:
    """One server-sent event as the Messages API writes it."""
    return f"event: {event}\ndata: {json.dumps({'type': event, **data})}\n\n".encode()


def _paced(events: list[tuple[float, bytes]]) -> Iterator[bytes]:
    """The events' bytes, each sent when it is due."""
    began = time.monotonic()
    for due, chunk in events:
        wait = began + due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        yield chunk


def _trimmed(draft: dict, keys: list[str] | None) -> dict:
    """The draft with only the schema's properties (all of it when no schema was asked for)."""
    return draft if keys is None else {key: value for key, value in draft.items() if key in keys}


def _full(draft: dict, company: str, sources: dict[str, str]) -> dict:
    """The draft grown to the size of a real briefing: facts quoting the sources' sentences, and
    the number of advice items a real reply has."""
    quotes = [(sid, s) for sid, text in sources.items() for s in sentences(text)]
    quotes = quotes or [("S1", "")]

    def facts(n: int, offset: int, topic: str) -> list[dict]:
        picked = [quotes[(offset + k) % len(quotes)] for k in range(n)]
        return [
            {
                "text": f"On {topic}, {company}'s own pages say this, which a candidate can bring up: {quote}",
                "evidence": [{"source": sid, "quote": quote}],
            }
            for sid, quote in picked
        ]

    def advice(n: int, kind: str) -> list[dict]:
        return [
            {
                "text": f"{kind} {k}: relate your own experience to what {company} builds, and say it in two "
                "sentences. Give one number that shows the result."
            }
            for k in range(1, n + 1)
        ]

    return {
        **draft,
        "overview": facts(4, 0, "what the company does"),
        "topChallenges": facts(3, 1, "the challenges ahead"),
        "cultureInsights": facts(3, 2, "how the teams work"),
        "redFlags": [*draft["redFlags"], *facts(2, 3, "what to look into")][:5],
        "interviewQuestions": [
            {**question, "text": f"{question['text']} Tell us how you would approach it at {company}, step by step."}
            for question in draft["interviewQuestions"]
        ]
        + advice(4, "Question"),
        "preparationTips": advice(5, "Tip"),
        "keyTalkingPoints": advice(5, "Talking point"),
        "smartQuestions": advice(5, "Question to ask"),
        "prepChecklist": advice(6, "Checklist item"),
    }


_SOURCE_HEADER = re.compile(r"^--- Source (S\d+) \(([a-z-]+)\): .*$", re.MULTILINE)  # kinds such as job-board


def sources_in(prompt: str) -> dict[str, str]:
    """The sources of a briefing prompt: id → the text shown under its header."""
    found: dict[str, str] = {}
    headers = list(_SOURCE_HEADER.finditer(prompt))
    for n, header in enumerate(headers):
        end = headers[n + 1].start() if n + 1 < len(headers) else len(prompt)
        text = prompt[header.end() : end]
        found[header.group(1)] = re.split(r"\n</untrusted_", text)[0].strip()
    return found


def source_kinds(prompt: str) -> dict[str, str]:
    """The kind of each source of a briefing prompt: id → page, posting, job-board, blog, …"""
    return {header.group(1): header.group(2) for header in _SOURCE_HEADER.finditer(prompt)}


def statement(text: str) -> str:
    """The text's first sentence of five words or more (its first sentence when none is)."""
    return next((s for s in sentences(text) if len(s.split()) >= 5), sentences(text)[0])


def _line_of(text: str, prefix: str) -> str | None:
    """The text's first line that starts with `prefix`, whitespace collapsed."""
    return next((" ".join(line.split()) for line in text.split("\n") if line.startswith(prefix)), None)


def _language_lines(sources: dict[str, str], of_kind: dict[str, list[str]], word: str) -> list[dict]:
    """Evidence from the first repository whose language is `word`, quoting its Language line."""
    line = f"Language: {word}"
    return [{"source": sid, "quote": line} for sid in of_kind.get("repository", []) if line in sources[sid]][:1]


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
