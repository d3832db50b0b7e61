"""TCP_NODELAY on the server's connections: set by the app itself, seen on a real `streamlit run`.

A client cannot read the server's socket options, so the test takes a duplicate of the server's
own descriptors with pidfd_getfd(2) (Linux 5.6+; allowed on our own child process) and reads
TCP_NODELAY on the very socket that accepted this test's connection. Should a Streamlit upgrade
bind its socket after the app starts, nothing is set and this test fails.
"""

from __future__ import annotations

import ctypes
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from harness.live_app import ServedApp, app_environment, serve_app
from server_tuning import set_nodelay_on_listening_sockets

SYS_PIDFD_GETFD = 438  # the same number on every Linux architecture


def _server_sockets(pid: int) -> Iterator[socket.socket]:
    """Duplicates of every socket descriptor of process `pid`, taken with pidfd_getfd(2)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                if not os.readlink(f"/proc/{pid}/fd/{name}").startswith("socket:"):
                    continue
            except FileNotFoundError:  # closed meanwhile
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                raise OSError(ctypes.get_errno(), f"pidfd_getfd: {os.strerror(ctypes.get_errno())}")
            yield socket.socket(fileno=fd)
    finally:
        os.close(pidfd)


@pytest.fixture
def served(tmp_path) -> Iterator[ServedApp]:
    app = serve_app(app_environment(tmp_path, {}), tmp_path)
    yield app
    app.stop()


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_the_served_app_accepts_connections_with_tcp_nodelay(served):
    parts = urlsplit(served.url)
    with socket.create_connection((parts.hostname, parts.port)) as client:
        client.sendall(f"GET /_stcore/health HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        assert client.recv(4096).startswith(b"HTTP/1.1 200")  # the connection is accepted and kept

        accepted, listening = [], []
        for sock in _server_sockets(served.process.pid):
            with sock:
                if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                    continue
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    if sock.getsockname()[1] == parts.port:
                        listening.append(_nodelay(sock))
                    continue
                try:
                    peer = sock.getpeername()
                except OSError:
                    continue
                if peer[:2] == client.getsockname()[:2]:
                    accepted.append(_nodelay(sock))

    assert listening == [True]
    assert accepted == [True]
    assert "no listening TCP socket found" not in served.log()


def test_only_listening_tcp_sockets_are_changed():
    with socket.socket() as server, socket.socket(type=socket.SOCK_DGRAM) as udp, socket.socket() as idle:
        server.bind(("127.0.0.1", 0))
        server.listen()
        idle.bind(("127.0.0.1", 0))  # bound, not listening
        assert not _nodelay(server)

        assert set_nodelay_on_listening_sockets() >= 1

        with socket.create_connection(server.getsockname()) as client:
            accepted, _ = server.accept()
            with accepted:
                assert _nodelay(server) and _nodelay(accepted)
                assert not _nodelay(client) and not _nodelay(idle)
        assert udp.fileno() >= 0  # untouched and still open
