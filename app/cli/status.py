"""``tautan status``: the inbox and outbox backlog by state and age, so a stuck queue shows."""

from __future__ import annotations

import datetime as dt

import click
from babel.dates import format_timedelta

from tautan.cli import output
from tautan.cli.kit import Kit
from tautan.core.backlog import as_json as backlog_json
from tautan.core.backlog import backlog
from tautan.wiring import Container


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t

    @cli.command(help=t("Show what waits in the inbox and the outbox, by state and age."))
    @kit.output_lang
    @kit.json_flag
    @click.pass_obj
    def status(container: Container, _lang: str | None, as_json: bool) -> None:
        queues = backlog(container.uow())
        if as_json:
            return output.print_json(backlog_json(queues))
        if not queues:
            click.echo(t("Nothing is waiting: the inbox and the outbox are empty."))
            return
        for queue in queues:
            age = format_timedelta(dt.timedelta(seconds=queue.oldest_seconds), locale=t.locale)
            click.echo(t("{queue} · {state}: {count}, the oldest from {age} ago", queue=queue.queue,
                         state=queue.state, count=t.number(queue.count), age=age))
