"""``tautan company``: companies and their units."""

from __future__ import annotations

from dataclasses import asdict

import click
from tautan.cli import output
from tautan.cli.kit import CLI_ACTOR, Kit
from tautan.core import services
from tautan.core.i18n import N_, Translator
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

    register_listing(company, kit)


def register_listing(company: click.Group, kit: Kit) -> None:
    """``company list`` and ``company show``: so nobody has to guess a company's exact name."""
    t, json_flag = kit.t, kit.json_flag

    @company.command("list", help=t("List the companies and their units, with the slug --customer also accepts."))
    @json_flag
    @click.pass_obj
    def company_list(container: Container, as_json: bool) -> None:
        views = services.list_companies(container.uow())
        if as_json:
            return output.print_json([asdict(v) for v in views])
        if not views:
            click.echo(t("No companies yet. Add one with: tautan company add NAME"))
            return
        rows = [[str(v.id), ("  " if v.parent_id else "") + v.display_name, v.slug, role_label(t, v.role), v.locale]
                for v in views]
        output.print_rows([t("ID"), t("Name"), t("Slug"), t("Role"), t("Language")], rows)

    @company.command("show", help=t("Show one company (by name or slug) and its units."))
    @click.argument("name", metavar=t("NAME"))
    @json_flag
    @click.pass_obj
    def company_show(container: Container, name: str, as_json: bool) -> None:
        view = services.get_company(container.uow(), name)
        units = [v for v in services.list_companies(container.uow()) if v.parent_id == view.id]
        if as_json:
            return output.print_json({**asdict(view), "units": [asdict(u) for u in units]})
        click.echo(t("Company {name} (ID {id})", name=view.display_name, id=view.id))
        click.echo("  " + t("Slug: {slug}", slug=view.slug))
        click.echo("  " + t("Role: {role}", role=role_label(t, view.role)))
        click.echo("  " + t("Language of notices: {lang}", lang=view.locale))
        if units:
            click.echo("  " + t("Units: {units}", units=t.list(u.name for u in units)))


def role_label(t: Translator, role: str) -> str:
    labels = {"customer": N_("customer"), "supplier": N_("supplier"), "both": N_("customer and supplier")}
    return t(labels[role]) if role in labels else role
