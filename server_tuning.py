"""What the app sets on the server process it runs in: TCP_NODELAY at start, and a frozen heap."""

from __future__ import annotations

import gc
import logging
import os
import socket
import stat
import threading
import time

log = logging.getLogger(__name__)

FD_DIR = "/dev/fd"  # one entry per open descriptor of this process (Linux, macOS)
FREEZE_ABOVE = 4_000  # objects tracked outside the frozen generation before they are frozen too
CHECK_S = 5.0  # how often the unfrozen heap is counted (a cheap count, not a collection), seconds
THAW_S = 600.0  # garbage cycles among frozen objects are collected at most this late, seconds


def _set_nodelay_if_listening_tcp(fd: int) -> bool:
    """Set TCP_NODELAY on `fd` if it is a listening TCP socket; whether it was one."""
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return False
        with socket.socket(fileno=os.dup(fd)) as sock:  # a duplicate: the server's fd stays open
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                return False
            if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                return False
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return True
    except OSError:  # closed meanwhile, or the listing's own descriptor
        return False


def set_nodelay_on_listening_sockets() -> int:
    """Set TCP_NODELAY on every listening TCP socket of this process; returns how many.

    Streamlit 1.67 binds its socket itself, with proto 0, before the app is imported; asyncio
    sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, so without this every response
    on a kept-alive connection (the API's and the pages' websocket) waits ~40 ms for the client's
    delayed ACK. The kernel copies the option from the listening socket to each accepted one.
    Only public socket calls: no Streamlit internals to break on an upgrade. Never raises: at
    worst responses stay slow and a warning says so.
    """
    try:
        names = os.listdir(FD_DIR)
    except OSError:
        names = []
    done = sum(_set_nodelay_if_listening_tcp(int(name)) for name in names if name.isdigit())
    if not done:
        log.warning("no listening TCP socket found: kept-alive responses may wait ~40 ms for delayed ACKs")
    return done


class FrozenHeap:
    """Keeps the process's long-lived objects in the frozen generation, out of reach of the
    full collections Streamlit runs after every script run.

    Streamlit runs gc.collect(2) after every script run, fragment reruns included
    (`runner.postScriptGC`). A full collection visits every tracked object outside the frozen
    generation and every object each of them refers to, scattered across the whole heap: with
    the app's libraries loaded it was ~90 % of a job page poll's CPU. Freezing once at start is
    not enough, because much of what lives as long as the process is made later: modules loaded
    by the first pages, Streamlit's emoji set, linecache's source lines, the sessions of open
    tabs, the state of running jobs. With ten tabs watching running jobs that was ~13 000
    objects with ~69 000 references, and each poll's collection cost ~10 ms of CPU.

    So a thread checks every `check_s`: when more than `freeze_above` objects are tracked outside
    the frozen generation, it collects them and freezes the survivors. A frozen object is never
    collected, so a cycle that becomes garbage after it was frozen would stay; hence, if anything
    was frozen since the last time, every `thaw_s` it unfreezes everything, collects the whole
    heap (one full collection, ~0.2-0.3 s of CPU with the GIL held) and freezes what is alive.
    """

    def __init__(self, *, freeze_above: int = FREEZE_ABOVE, check_s: float = CHECK_S, thaw_s: float = THAW_S) -> None:
        self.freeze_above, self.check_s, self.thaw_s = freeze_above, check_s, thaw_s
        self.freezes = self.thaws = 0
        self._thawed_at = time.monotonic()
        self._frozen_since_thaw = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="frozen-heap", daemon=True)

    def start(self) -> FrozenHeap:
        """Freeze what is alive now (collecting first, so no garbage is frozen), then keep watch."""
        gc.collect()
        gc.freeze()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching; what is frozen stays frozen."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def check(self) -> None:
        """One watch: thaw and refreeze if it is time, else freeze the unfrozen heap if it grew."""
        if self._frozen_since_thaw and time.monotonic() - self._thawed_at >= self.thaw_s:
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.thaws += 1
            self._thawed_at, self._frozen_since_thaw = time.monotonic(), False
        elif len(gc.get_objects()) > self.freeze_above:
            gc.collect()
            gc.freeze()
            self.freezes += 1
            self._frozen_since_thaw = True

    def _run(self) -> None:
        while not self._stop.wait(self.check_s):
            self.check()
