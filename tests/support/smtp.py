"""A real SMTP relay for the tests to send to: an aiosmtpd handler that keeps what it receives."""

from __future__ import annotations

import email
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.net import free_port


class SinkHandler:
    """An aiosmtpd handler that keeps what it receives; some recipients can be refused with a
    given reply (``refuse[address] = "550 5.1.1 no such user"``)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                                  bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=policy.default)  # type: ignore[misc]
                for _, _, data in self.received]


@contextmanager
def running_sink(**controller_options: Any) -> Iterator[tuple[SinkHandler, int]]:
    """An aiosmtpd relay on a free port that keeps every message: (handler, port)."""
    handler = SinkHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@contextmanager
def inbound_server(container: Any, *, domain: str = "connect.example.id", max_size: int | None = None,
                   **handler: Any) -> Iterator[tuple[Any, int]]:  # noqa: ANN401
    """tautan's own SMTP server on a free port, storing into ``container``'s inbox: (inbound, port).
    Processing is left to the test, step by step; ``handler`` goes to ``InboundHandler``."""
    from tautan.mail.smtp import InboundHandler, make_controller

    inbound = container.inbound()
    sizes = {"max_size": max_size} if max_size is not None else {}
    controller = make_controller(InboundHandler(inbound, mail_domain=domain, **handler), host="127.0.0.1",
                                 port=free_port(), **sizes)
    controller.start()
    try:
        yield inbound, controller.port
    finally:
        controller.stop()
