"""A real HTTP server on 127.0.0.1 that fakes an outside service, with scripted faults.

Each fake subclasses `FakeServer` and implements `handle(request) -> Reply`. Tests script faults
with `fail(path, *replies)`: the next requests to that path get those replies, in order, before
the fake's normal behaviour resumes. Every request is kept in `requests` for assertions.
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        """The body parsed as JSON."""
        return json.loads(self.body or b"{}")


@dataclass
class Reply:
    """What the fake sends back, including misbehaviour."""

    status: int = 200
    body: bytes | Iterable[bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # seconds to wait before answering
    chunk_delay_s: float = 0.0  # seconds between body chunks (a trickling server)
    reset_after_bytes: int | None = None  # drop the connection (RST) after this many body bytes

    @classmethod
    def json(cls, data: object, status: int = 200, **headers: str) -> Reply:
        """A JSON reply."""
        return cls(status, json.dumps(data).encode(), {"Content-Type": "application/json", **headers})

    @classmethod
    def html(cls, text: str, status: int = 200, **headers: str) -> Reply:
        """An HTML reply."""
        return cls(status, text.encode(), {"Content-Type": "text/html; charset=utf-8", **headers})


class FakeServer:
    """Serves `handle()` on a free loopback port in a background thread."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.latency_s = 0.0  # added before every unscripted reply (a service's usual latency), seconds
        self._faults: dict[str, deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes; without this, Nagle's algorithm and
                # delayed ACKs add ~40 ms to every reply.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                fake._send(self, fake._reply_for(request))

            do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve

        class Server(ThreadingHTTPServer):
            # socketserver's default listen backlog is 5: a burst of new connections (64 jobs
            # calling at once) overflowed it, and each dropped SYN cost its client a 1 s
            # retransmission. A real service accepts the burst.
            request_queue_size = socket.SOMAXCONN

            def handle_error(self, request, client_address) -> None:
                # A client that hangs up on purpose (a refused body, a deadline) is not an error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The loopback port it listens on."""
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Its base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        """Start serving in the background."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset(self) -> None:
        """Forget requests and scripted faults (between tests)."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
            self.latency_s = 0.0

    def fail(self, path: str, *replies: Reply) -> None:
        """Answer the next requests to `path` with `replies`, in order."""
        with self._lock:
            self._faults[path].extend(replies)

    def hits(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for r in self.requests if r.path == path)

    def handle(self, request: Request) -> Reply:
        """The fake's normal behaviour; subclasses override."""
        return Reply(404, b"not found")

    def _reply_for(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            queued = self._faults.get(request.path)
            scripted = queued.popleft() if queued else None
        if scripted:
            return scripted
        if self.latency_s:
            time.sleep(self.latency_s)
        return self.handle(request)

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, reply: Reply) -> None:
        if reply.delay_s:
            time.sleep(reply.delay_s)
        chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
        try:
            handler.send_response(reply.status)
            headers = {k.lower(): v for k, v in reply.headers.items()}
            if isinstance(reply.body, bytes) and "content-length" not in headers:
                handler.send_header("Content-Length", str(len(reply.body)))
            if not isinstance(reply.body, bytes):
                handler.send_header("Connection", "close")
                handler.close_connection = True
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            if handler.command == "HEAD":
                return
            sent = 0
            for chunk in chunks:
                if reply.reset_after_bytes is not None and sent + len(chunk) >= reply.reset_after_bytes:
                    handler.wfile.write(chunk[: reply.reset_after_bytes - sent])
                    handler.wfile.flush()
                    # SO_LINGER 0 makes close() send a RST: the client sees a reset mid-body.
                    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    handler.connection.close()
                    handler.close_connection = True
                    return
                handler.wfile.write(chunk)
                handler.wfile.flush()
                sent += len(chunk)
                if reply.chunk_delay_s:
                    time.sleep(reply.chunk_delay_s)
        except (BrokenPipeError, ConnectionResetError, OSError):
            handler.close_connection = True
