"""A loopback TCP proxy between the app and PostgreSQL, whose connections a test can cut."""

from __future__ import annotations

import socket
import threading

BUFFER_BYTES = 65_536


class TcpProxy:
    """Forwards 127.0.0.1:<port> to an upstream address; `cut()` drops every connection, and
    while `down` is set new connections are refused (a database restarting)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.down = threading.Event()
        self.cuts = 0
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        """Drop every open connection, both ways, at once."""
        with self._lock:
            sockets, self._sockets = self._sockets, set()
            self.cuts += 1
        for sock in sockets:
            _close(sock)

    def close(self) -> None:
        """Stop listening and drop every connection."""
        _close(self._listener)
        self.cut()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if self.down.is_set():
                _close(client)
                continue
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(BUFFER_BYTES):
                target.sendall(data)
        except OSError:
            pass
        _close(source)
        _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
