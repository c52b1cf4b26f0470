"""The long-running processes of the Procfile (``web``, ``smtp``, ``imap``, ``worker``), ``serve``
(all in one) and ``demo``."""

from __future__ import annotations

import click

from tautan.cli.kit import Kit, LocalizedUsageError
from tautan.wiring import Container


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t

    @cli.command(help=t("Walk through one whole flow on the embedded database."))
    @click.option("--serve/--no-serve", default=True,
                  help=t("Keep running so the link can be opened (the default), or answer for the supplier and stop."))
    @click.pass_obj
    def demo(container: Container, serve: bool) -> None:
        from tautan.demo import run_demo

        run_demo(container, t, serve=serve)

    @cli.command(help=t("Deliver email, send reminders and expire invitations."))
    @click.option("--once", is_flag=True, help=t("Do one round and stop."))
    @click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(min=0.1),
                  help=t("Seconds between rounds."))
    @click.pass_obj
    def worker(container: Container, once: bool, interval: float) -> None:
        from tautan.worker import Worker

        runner = Worker.from_container(container)
        if once:
            report = runner.run_once()
            click.echo(t("Processed {received} received, sent {sent}, retrying {retrying}, failed {failed}, "
                         "reminders {reminded}, expired {expired}.",
                         **{k: t.number(v) for k, v in vars(report).items()}))
            return
        container.check_schema()
        click.echo(t("The worker is running. Press Ctrl+C to stop."))
        runner.run_forever(interval)

    host_option = click.option("--host", default="127.0.0.1", show_default=True, help=t("Address to listen on."))
    port_option = click.option("--port", type=click.IntRange(1, 65535), help=t("Port to listen on (default: PORT)."))

    @cli.command(help=t("Run the web app: invitation pages, Slack endpoints, health checks."))
    @host_option
    @port_option
    @click.pass_obj
    def web(container: Container, host: str, port: int | None) -> None:
        from tautan.serve import run_web

        container.check_schema()
        run_web(container, host=host, port=port or container.settings.port)

    @cli.command(help=t("Receive email: the SMTP server for replies, bounces and requests."))
    @click.option("--listen", metavar="HOST:PORT", help=t("Address to listen on (default: SMTP_LISTEN)."))
    @click.pass_obj
    def smtp(container: Container, listen: str | None) -> None:
        from tautan.serve import run_smtp

        container.check_schema()
        run_smtp(container, listen=listen, t=t)

    @cli.command(help=t("Receive email from a mailbox (IMAP_URL): IDLE, with polling as a fallback."))
    @click.option("--once", is_flag=True, help=t("Do one round and stop."))
    @click.pass_obj
    def imap(container: Container, once: bool) -> None:
        from tautan.serve import run_imap

        container.check_schema()
        if not container.settings.imap_url:
            raise LocalizedUsageError(t("Set IMAP_URL, for example imap://user:password@host:143/INBOX."))
        run_imap(container, once=once, t=t)

    @cli.command(help=t("Run everything in one process: the web app, the SMTP server and the worker."))
    @host_option
    @port_option
    @click.pass_obj
    def serve(container: Container, host: str, port: int | None) -> None:
        from tautan.serve import run_all

        container.check_schema()
        run_all(container, host=host, port=port or container.settings.port, t=t)

