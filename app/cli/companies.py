"""``tautan company``: companies and their units."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
import segno

from tautan.cli import output
from tautan.cli.kit import CLI_ACTOR, Kit
from tautan.core import services
from tautan.core.errors import InvalidInput
from tautan.core.i18n import N_, Translator
from tautan.core.model import Role
from tautan.mail.links import join_url, request_address
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


    @company.command("set", help=t("Set a customer's sign-up profile: directory listing and what suppliers are "
                                   "told once connected."))
    @click.argument("name")
    @click.option("--unit", metavar=t("NAME"), help=t("Set the profile of this unit of the company."))
    @click.option("--lang", "locale", type=lang_choice,
                  help=t("The company's language, and the language of --instructions, --terms and --privacy."))
    @click.option("--listed/--unlisted", default=None, help=t("Show the company in the supplier directory, or not."))
    @click.option("--peppol-id", metavar="SCHEME:VALUE", help=t("The PEPPOL participant id documents go to."))
    @click.option("--invoice-email", metavar=t("EMAIL"), help=t("The address invoices are sent to."))
    @click.option("--portal-url", metavar="URL", help=t("The portal where documents are uploaded."))
    @click.option("--receive", "receive", multiple=True, metavar="TYPE=peppol|email|portal",
                  help=t("How one document type is received (may be repeated)."))
    @click.option("--contact", metavar=t("EMAIL"), help=t("Whom suppliers contact with questions."))
    @click.option("--instructions", metavar=t("TEXT"), help=t("Instructions shown to a supplier once connected."))
    @click.option("--terms", metavar=t("TEXT"), help=t("The terms a supplier accepts on the join page."))
    @click.option("--privacy", metavar=t("TEXT"), help=t("The privacy notice shown on the join page."))
    @json_flag
    @click.pass_obj
    def company_set(container: Container, name: str, unit: str | None, locale: str | None, listed: bool | None,
                    peppol_id: str | None, invoice_email: str | None, portal_url: str | None,
                    receive: tuple[str, ...], contact: str | None, instructions: str | None, terms: str | None,
                    privacy: str | None, as_json: bool) -> None:
        methods = {}
        for pair in receive:
            code, _, method = pair.partition("=")
            methods[code] = method
        if locale:
            target = services.get_company(container.uow(), name, unit=unit)
            services.set_company_locale(container.uow(), company_id=target.id, locale=locale, actor=CLI_ACTOR,
                                        via="cli")
        view = services.set_customer_profile(
            container.uow(), customer=name, unit=unit, listed=listed, peppol_id=peppol_id,
            invoice_email=invoice_email, portal_url=portal_url, contact=contact, lang=locale,
            instructions=instructions, terms=terms, privacy=privacy, receive=methods or None,
            actor=CLI_ACTOR, via="cli")
        if as_json:
            return output.print_json(asdict(view))
        click.echo(t("Profile of {name} saved.", name=view.display_name))
        click.echo(t("Listed in the directory: {answer}", answer=t("yes") if view.listed else t("no")))

    @cli.command("link", help=t("Print the join page address, the request address and a QR code file for a "
                                "customer."))
    @click.argument("customer")
    @click.option("--unit", metavar=t("NAME"), help=t("The join page of this unit of the customer."))
    @click.option("--qr", "qr_path", metavar=t("FILE"), type=click.Path(dir_okay=False, writable=True),
                  help=t("Where to write the QR code (.svg or .png); default: SLUG-join.svg here."))
    @json_flag
    @click.pass_obj
    def link(container: Container, customer: str, unit: str | None, qr_path: str | None, as_json: bool) -> None:
        target = services.join_link(container.uow(), customer, unit=unit)
        settings = container.settings
        url = join_url(settings.public_base_url, target.customer_slug, target.unit_slug)
        address = request_address(target.request_slug, settings.mail_domain)
        path = Path(qr_path or f"{target.request_slug}-join.svg")
        if path.suffix.lower() not in (".svg", ".png"):
            raise InvalidInput(N_("The QR code file must end in .svg or .png."))
        segno.make(url, error="m").save(str(path), scale=8, border=4)
        if as_json:
            return output.print_json({"url": url, "request_address": address, "qr": str(path)})
        click.echo(t("Join page for {name}:", name=target.display_name))
        click.echo(url)
        click.echo(t("Request address: {address}", address=address))
        click.echo(t("QR code written to {path}", path=str(path)))

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
