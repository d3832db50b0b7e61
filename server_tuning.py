"""What the app sets on the server process it runs in, once, when the server starts."""

from __future__ import annotations

import gc
import logging
import os
import socket
import stat

log = logging.getLogger(__name__)

FD_DIR = "/dev/fd"  # one entry per open descriptor of this process (Linux, macOS)


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


def freeze_startup_heap() -> None:
    """Move every object alive now out of the garbage collector's reach.

    Streamlit runs gc.collect(2) after every script run, fragment reruns included
    (`runner.postScriptGC`); a full collection walks every tracked object, so with the app's
    libraries loaded it cost most of a job page poll's CPU. Objects that exist once the server has
    started (modules, classes, the runner) live as long as the process, so they are frozen and
    the collection walks only what was made since. Collect first so no garbage is frozen.
    """
    gc.collect()
    gc.freeze()
