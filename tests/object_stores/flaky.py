"""A TCP proxy in front of a local server that answers some requests with HTTP 503.

The first request of each new connection is checked: while ``failures`` is above zero it is
answered ``503 Service Unavailable`` with ``Connection: close`` (the client's body is read and
dropped), otherwise the connection is piped to the server byte for byte.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

from wharf.testing.servers import free_port

_REPLY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class FlakyProxy:
    """``http://127.0.0.1:<port>`` forwarding to ``upstream_port``, failing on demand."""

    def __init__(self, upstream_port: int, failures: int = 0) -> None:
        self.upstream_port = upstream_port
        self.failures = failures
        self.served_503 = 0
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            with self._lock:
                fail = self.failures > 0
                if fail:
                    self.failures -= 1
                    self.served_503 += 1
            if fail:
                client.sendall(_REPLY)
                client.shutdown(socket.SHUT_WR)
                client.settimeout(2)
                with contextlib.suppress(OSError):
                    while client.recv(65536):  # drain the body the client is still sending
                        pass
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                upstream.sendall(head)
                back = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
                back.start()
                _pipe(client, upstream)
                back.join(timeout=5)

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def __enter__(self) -> FlakyProxy:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)
