"""The loopback fakes (site, GitHub, Anthropic, and the keyless sources' fakes) served from a child
process, for benchmarks of the code that calls them.

A real website, GitHub and Anthropic run on other machines; fakes in the measured process would
share its interpreter lock and bill their own Python to the code under measurement.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from harness.fakes.anthropic_api import DEFAULT_KEY, FakeAnthropic
from harness.fakes.github_api import FakeGitHub
from harness.fakes.site import FakeSite
from harness.fakes.wiring import fake_services_env, shared_source_fakes


def _serve(conn: Connection) -> None:
    fakes = {
        "site": FakeSite().start(),
        "github": FakeGitHub().start(),
        "llm": FakeAnthropic(api_key=DEFAULT_KEY).start(),
    }
    conn.send((fakes["site"].url, fake_services_env(fakes["site"], fakes["github"], fakes["llm"])))
    while True:
        command, argument = conn.recv()
        if command == "counts":
            conn.send({name: len(fake.requests) for name, fake in fakes.items()})
        elif command == "model":  # the fake model's knobs: ttft_s, tokens_per_s, full_drafts
            for name, value in argument.items():
                setattr(fakes["llm"], name, value)
            conn.send(None)
        elif command == "latency":
            for name, seconds in argument.items():
                for fake in shared_source_fakes().servers.values() if name == "sources" else [fakes[name]]:
                    fake.latency_s = seconds
            conn.send(None)
        else:  # "stop"
            for fake in fakes.values():
                fake.stop()
            conn.send(None)
            return


class FakesProcess:
    """The fakes in a child process, driven over a pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")  # no threads or locks inherited from this process
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.site_url, self.env = self._conn.recv()

    def _call(self, command: str, argument: object = None) -> object:
        self._conn.send((command, argument))
        return self._conn.recv()

    def request_counts(self) -> dict[str, int]:
        """How many requests each fake has received so far."""
        return self._call("counts")

    def set_latency(self, seconds: dict[str, float]) -> None:
        """Each named fake's added latency per request, seconds ("sources": every keyless source's fake)."""
        self._call("latency", seconds)

    def set_model(self, **knobs: float | bool) -> None:
        """Set the fake model's knobs (FakeAnthropic's ttft_s, tokens_per_s, full_drafts)."""
        self._call("model", knobs)

    def stop(self) -> None:
        """Stop the fakes and the child process."""
        self._call("stop")
        self._process.join()
