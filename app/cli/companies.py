"""``tautan company``: companies and their units."""

from __future__ import annotations

from dataclasses import asdict

import click
from tautan.cli import output
from tautan.cli.kit import CLI_ACTOR, Kit
from tautan.core import services
from tautan.core.model import Role
from tautan.wiring import Container


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t
    Group = kit.group_class  # noqa: N806 - a class
    lang_choice, json_flag = kit.lang_choice, kit.json_flag

    @cli.group(cls=Group, help=t("Manage companies and their units."))
    def company() -> None:
        pass

    @company.command("add", help=t("Add a company, or a unit of one with --parent."))
    @click.argument("name")
    @click.option("--customer", is_flag=True, help=t("The company buys (the default)."))
    @click.option("--supplier", is_flag=True, help=t("The company supplies."))
    @click.option("--parent", metavar=t("NAME"), help=t("Make this a unit of the named company."))
    @click.option("--lang", "locale", type=lang_choice, help=t("The company's language for notifications."))
    @json_flag
    @click.pass_obj
    def company_add(container: Container, name: str, customer: bool, supplier: bool, parent: str | None,
                    locale: str | None, as_json: bool) -> None:
        roles = [r for r, on in ((Role.CUSTOMER, customer), (Role.SUPPLIER, supplier)) if on]
        view = services.create_company(container.uow(), name=name, roles=roles or [Role.CUSTOMER],
                                       parent=parent, locale=locale, actor=CLI_ACTOR, via="cli")
        if as_json:
            return output.print_json(asdict(view))
        if view.parent_id:
            click.echo(t("Unit {name} added (id {id}).", name=view.display_name, id=view.id))
        else:
            click.echo(t("Company {name} added (id {id}).", name=view.name, id=view.id))

