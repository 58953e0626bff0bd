"""One guard for every test that talks to a local cloud stand-in: fake credentials in the
environment, and connections to link-local addresses (cloud metadata services) refused."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest


def _link_local(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) and address else None
    try:
        return isinstance(host, str) and ipaddress.ip_address(host).is_link_local
    except ValueError:
        return False


@contextmanager
def guarded_env(env: Mapping[str, str], unset: Iterable[str], blocked: list[str]) -> Iterator[None]:
    """Set ``env``, drop ``unset``, refuse link-local connections (noted in ``blocked``); at
    the end, fail if any was attempted."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(real: Callable[..., Any]) -> Callable[..., Any]:
        def connect(self: socket.socket, address: Any) -> Any:
            if _link_local(address):
                blocked.append(str(address))
                msg = f"test tried to reach a cloud metadata address {address}"
                raise ConnectionRefusedError(msg)
            return real(self, address)

        return connect

    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        for name in unset:
            mp.delenv(name, raising=False)
        mp.setattr(socket.socket, "connect", guarded(real_connect))
        mp.setattr(socket.socket, "connect_ex", guarded(real_connect_ex))
        yield
    assert blocked == [], f"clients tried to reach cloud metadata endpoints: {blocked}"
