"""The real app: `streamlit run app.py` as a subprocess on a free loopback port.

Used by the tests that need the served process (API end to end, crash, load, browser) and by
the benchmarks. The process runs in its own process group so a test can SIGKILL all of it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from settings import KEYS, PROJECT_DIR

STARTUP_TIMEOUT_S = 60.0  # how long `streamlit run` may take to answer /api/health, seconds
STOP_TIMEOUT_S = 10.0  # how long it may take to exit after SIGTERM before SIGKILL, seconds


@dataclass
class ServedApp:
    """A `streamlit run app.py` subprocess and where it listens."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, with no chance to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """End the server's whole process group: SIGTERM, then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_environment(workdir: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: ours minus every app setting, a private HOME (so no secrets file
    of the developer is read), a fresh SQLite file and no source cache reuse, then `extra`."""
    home = workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in KEYS}
    env.update(
        HOME=str(home),
        DATABASE_URL=f"sqlite:///{workdir / 'prep.db'}",
        PREP_ALLOW_PRIVATE_URLS="1",
        PREP_WORKERS="2",
        PREP_CACHE_TTL_S="0",  # every job revalidates its sources, so scripted faults reach each job
        STREAMLIT_BROWSER_GATHER_USAGE_STATS="false",
    )
    env.update(extra)
    return env


def serve_app(
    env: Mapping[str, str],
    workdir: Path,
    *,
    name: str = "streamlit",
    script: str = "app.py",
    health_path: str = "/api/health",
) -> ServedApp:
    """Start `streamlit run <script>` in its own process group; returns once `health_path` answers."""
    port = free_port()
    log_path = workdir / f"{name}.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script,
             "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
             # Others may edit the code while tests run: no hot reload mid-test.
             "--server.fileWatcherType", "none", "--server.runOnSave", "false"],
            cwd=PROJECT_DIR, env=dict(env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    app = ServedApp(f"http://127.0.0.1:{port}", process, log_path)
    give_up = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{app.log()}")
        try:
            if httpx.get(f"{app.url}{health_path}", timeout=2.0).status_code == 200:
                return app
        except httpx.TransportError:
            pass
        if time.monotonic() > give_up:
            app.stop()
            raise RuntimeError(f"streamlit did not answer within {STARTUP_TIMEOUT_S} s:\n{app.log()}")
        time.sleep(0.2)
