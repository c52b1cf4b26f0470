"""Running the processes: the web app under uvicorn, the SMTP server, the IMAP poller, and
everything in one process for the embedded default."""

from __future__ import annotations

import logging
import signal
import ssl
import threading
from typing import Any

import click
import uvicorn

from tautan.core.i18n import Translator
from tautan.wiring import Container

log = logging.getLogger(__name__)


def run_web(container: Container, *, host: str, port: int) -> None:
    from tautan.web import create_app
    from tautan.wiring import start_socket_mode

    app = create_app(container)
    socket_mode = start_socket_mode(container)  # when SLACK_APP_TOKEN is set
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)
    finally:
        if socket_mode is not None:
            socket_mode.close()


def start_smtp(container: Container, listen: str | None = None) -> tuple[Any, Any, threading.Thread]:
    """Start the SMTP server and its processor thread; the caller stops them."""
    from tautan.mail.smtp import InboundHandler, Processor, make_controller

    settings = container.settings
    host, port = (listen.rsplit(":", 1) if listen else settings.smtp_listen_address())
    inbound = container.inbound()
    processor = Processor(inbound)
    handler = InboundHandler(inbound, mail_domain=settings.mail_domain, on_stored=processor.notify)
    tls = None
    if settings.smtp_tls_cert and settings.smtp_tls_key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(settings.smtp_tls_cert, settings.smtp_tls_key)
    controller = make_controller(handler, host=str(host).strip("[]"), port=int(port), tls=tls,
                                 max_size=settings.smtp_max_message_size)
    controller.start()
    thread = threading.Thread(target=processor.run, name="inbox", daemon=True)
    thread.start()
    return controller, processor, thread


def run_smtp(container: Container, *, listen: str | None, t: Translator) -> None:
    controller, processor, thread = start_smtp(container, listen)
    click.echo(t("Receiving email for {domain} on {host}:{port}. Press Ctrl+C to stop.",
                 domain=container.settings.mail_domain, host=controller.hostname, port=controller.port))
    _wait_for_signal()
    processor.stop.set()
    processor.wake.set()
    controller.stop()
    thread.join(timeout=10)


def run_imap(container: Container, *, once: bool, t: Translator) -> None:
    from tautan.mail.imap import ImapPoller

    poller = ImapPoller(container.settings.imap_url or "", container.inbound())
    if once:
        count = poller.poll_once()
        click.echo(t("Fetched {count} messages.", count=t.number(count)))
        return
    click.echo(t("Watching the mailbox {mailbox}. Press Ctrl+C to stop.", mailbox=poller.description))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        poller.run_forever(stop)
    except KeyboardInterrupt:
        stop.set()


def run_all(container: Container, *, host: str, port: int, t: Translator) -> None:
    """The web app in the foreground, the SMTP server and the worker beside it; Ctrl+C stops all."""
    from tautan.web import create_app
    from tautan.worker import Worker

    worker = Worker.from_container(container)
    thread = threading.Thread(target=worker.run_forever, kwargs={"interval": 2.0}, name="worker", daemon=True)
    thread.start()
    smtp = start_smtp(container)
    from tautan.wiring import start_socket_mode

    socket_mode = start_socket_mode(container)
    click.echo(t("Tautan is running at {url} (worker: {transport}; email in: {host}:{port}). Press Ctrl+C to stop.",
                 url=container.settings.public_base_url, transport=worker.transport.description,
                 host=smtp[0].hostname, port=smtp[0].port))
    try:
        uvicorn.run(create_app(container), host=host, port=port, log_level="warning")
    finally:
        worker.stop.set()
        if socket_mode is not None:
            socket_mode.close()
        controller, processor, inbox_thread = smtp
        processor.stop.set()
        processor.wake.set()
        controller.stop()
        thread.join(timeout=10)
        inbox_thread.join(timeout=10)


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
