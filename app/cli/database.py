"""``tautan db``: the database's migrations."""

from __future__ import annotations

import click

from tautan.cli.kit import Kit
from tautan.wiring import Container


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t
    Group = kit.group_class  # noqa: N806 - a class
    output_lang = kit.output_lang

    @cli.group(cls=Group, help=t("Manage the database."))
    def db() -> None:
        pass

    @db.command("upgrade", help=t("Apply the database migrations."))
    @output_lang
    @click.pass_obj
    def db_upgrade(container: Container, _lang: str | None) -> None:
        from sqlalchemy import exc as sa_exc

        from tautan.core.errors import Unavailable
        from tautan.db import upgrade

        try:
            upgrade(container.settings.database_url)
        except sa_exc.OperationalError:
            raise Unavailable() from None
        click.echo(t("The database is up to date."))

