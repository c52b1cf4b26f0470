"""The real ASGI app under uvicorn on a free port, in a background thread, for browser tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from tautan.db import upgrade
from tautan.settings import Settings
from tautan.web import create_app
from tautan.wiring import Container


@contextmanager
def live_server(folder: Path, secret_keys: tuple[str, ...] = ("browser-test-key",),
                **settings: Any) -> Iterator[tuple[str, Container]]:
    """The app on a fresh SQLite database in ``folder``; ``settings`` are further ``Settings`` fields."""
    url = f"sqlite:///{folder / 'tautan.db'}"
    upgrade(url)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before the server starts: no race for the port
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    container = Container(Settings(database_url=url, secret_keys=secret_keys, public_base_url=base_url, **settings))
    server = uvicorn.Server(uvicorn.Config(create_app(container), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield base_url, container
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        container.close()
