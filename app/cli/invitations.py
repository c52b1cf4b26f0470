"""Invitations from the command line: ``invite``, ``import``, ``show``, ``resend``, ``cancel``,
and ``accept``/``decline`` for operators answering for a supplier."""

from __future__ import annotations

from collections.abc import Callable

import click

from tautan.cli import output
from tautan.cli.kit import CLI_ACTOR, EXIT_USER_ERROR, Kit, LocalizedUsageError
from tautan.core import services
from tautan.core.errors import NotFound
from tautan.core.i18n import N_, Translator
from tautan.core.views import InvitationView
from tautan.mail.links import invitation_url, reply_address
from tautan.wiring import Container


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t
    lang_choice, json_flag, output_lang = kit.lang_choice, kit.json_flag, kit.output_lang

    @cli.command(help=t("Invite a supplier contact to connect."))
    @click.argument("email")
    @click.option("--customer", required=True, metavar=t("NAME"),
                  help=t("The inviting customer company (name or slug)."))
    @click.option("--unit", metavar=t("NAME"), help=t("The unit of the customer that invites."))
    @click.option("--types", default="invoice", show_default=True, metavar="catalog,order,invoice",
                  help=t("Document types, separated by commas."))
    @click.option("--lang", type=lang_choice, help=t("Language of the invitation (en or id)."))
    @click.option("--message", help=t("A personal message to include."))
    @click.option("--supplier-name", metavar=t("NAME"), help=t("The supplier company's name."))
    @json_flag
    @click.pass_obj
    def invite(container: Container, email: str, customer: str, unit: str | None, types: str,
               lang: str | None, message: str | None, supplier_name: str | None, as_json: bool) -> None:
        view = services.invite(container.uow(), customer=customer, unit=unit, email=email,
                               types=types.split(","), lang=lang, message=message,
                               supplier_name=supplier_name, actor=CLI_ACTOR, via="cli")
        settings = container.settings
        link = invitation_url(settings.public_base_url, settings.secret_keys, view.id, view.reply_token)
        reply_to = reply_address(view.reply_token, settings.mail_domain)
        if as_json:
            return output.print_json({**output.invitation_json(view), "reply_to": reply_to, "link": link})
        if not view.created:
            click.echo(t("{email} already has a live invitation from {customer}; here it is.",
                         email=view.email, customer=view.customer))
        output.print_invitation(t, view)
        click.echo(t("Reply-To: {address}", address=reply_to))
        click.echo(t("Link: {url}", url=link))

    @cli.command("import", help=t("Invite many suppliers from a CSV file: email, supplier name, types, language, "
                                  "message (a header row names the columns; only email is required)."))
    @click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
    @click.option("--customer", required=True, metavar=t("NAME"),
                  help=t("The inviting customer company (name or slug)."))
    @click.option("--unit", metavar=t("NAME"), help=t("The unit of the customer that invites."))
    @click.option("--types", default="invoice", show_default=True, metavar="catalog,order,invoice",
                  help=t("Document types when a row names none."))
    @click.option("--lang", type=lang_choice, help=t("Language when a row names none (else guessed from the address)."))
    @json_flag
    @click.pass_obj
    def import_(container: Container, path: str, customer: str, unit: str | None, types: str,
                lang: str | None, as_json: bool) -> None:
        from tautan.bulk import import_invitations

        results = import_invitations(container, path, customer=customer, unit=unit, types=types, lang=lang,
                                     actor=CLI_ACTOR, t=t, progress=not as_json)
        if as_json:
            return output.print_json(results)
        failed = [r for r in results if r["error"]]
        for row in failed:
            click.echo(t("Line {line}: {error}", line=row["line"], error=row["error"]), err=True)
        click.echo(t("{invited} invited, {existing} already invited, {failed} not imported.",
                     invited=t.number(sum(1 for r in results if r["status"] == "invited")),
                     existing=t.number(sum(1 for r in results if r["status"] == "existing")),
                     failed=t.number(len(failed))))
        if failed:
            raise SystemExit(EXIT_USER_ERROR)

    @cli.command(help=t("Show an invitation (or, with c12, connection 12), its connections and their history."))
    @click.argument("ref", metavar="ID")
    @output_lang
    @json_flag
    @click.pass_obj
    def show(container: Container, ref: str, _lang: str | None, as_json: bool) -> None:
        kind, number = show_target(t, ref)
        if kind is None:  # a bare number: the invitation with that id, else the connection
            try:
                services.get_invitation(container.uow(), invitation_id=number)
                kind = "invitation"
            except NotFound:
                try:
                    services.get_connection(container.uow(), connection_id=number)
                except NotFound:
                    raise NotFound(N_("There is no invitation or connection with id {id}."), id=number) from None
                kind = "connection"
        if kind == "connection":
            return show_connection(container, number, as_json)
        view = services.get_invitation(container.uow(), invitation_id=number)
        events = services.history(container.uow(), invitation_id=number)
        settings = container.settings
        if as_json:
            return output.print_json({**output.invitation_json(view), "kind": "invitation",
                                "reply_to": reply_address(view.reply_token, settings.mail_domain),
                                "link": invitation_url(settings.public_base_url, settings.secret_keys,
                                                       view.id, view.reply_token),
                                "history": [output.event_json(e) for e in events]})
        output.print_invitation(t, view)
        click.echo(t("History:"))
        for event in events:
            click.echo("  " + output.event_line(t, event))

    def show_connection(container: Container, connection_id: int, as_json: bool) -> None:
        connection = services.get_connection(container.uow(), connection_id=connection_id)
        events = services.history(container.uow(), connection_id=connection_id)
        if as_json:
            return output.print_json({**output.connection_json(connection), "kind": "connection",
                                      "history": [output.event_json(e) for e in events]})
        output.print_connection(t, connection)
        click.echo(t("History:"))
        for event in events:
            click.echo("  " + output.event_line(t, event))

    def answer(name: str, help_text: str, service: Callable[..., InvitationView], done: str) -> None:
        @cli.command(name, help=help_text)
        @click.argument("invitation_id", metavar="ID", type=int)
        @output_lang
        @json_flag
        @click.pass_obj
        def command(container: Container, invitation_id: int, _lang: str | None, as_json: bool) -> None:
            view = service(container.uow(), invitation_id=invitation_id, actor=CLI_ACTOR, via="cli")
            if as_json:
                return output.print_json(output.invitation_json(view))
            click.echo(t(done, id=view.id, supplier=view.supplier, customer=view.customer))

    answer("resend", t("Send an invitation again (also an undeliverable or expired one)."), services.resend,
           N_("Invitation {id} to {supplier} will be sent again."))
    answer("cancel", t("Cancel an invitation that has not been answered."), services.cancel,
           N_("Invitation {id} to {supplier} is cancelled."))
    answer("accept", t("Accept an invitation for the supplier (operators only)."), services.accept,
           N_("{supplier} is now connected to {customer} (invitation {id})."))
    answer("decline", t("Decline an invitation for the supplier (operators only)."), services.decline,
           N_("{supplier} declined the invitation from {customer} (invitation {id})."))


def show_target(t: Translator, ref: str) -> tuple[str | None, int]:
    """``i12`` is invitation 12, ``c12`` connection 12, ``12`` whichever exists (the invitation first)."""
    text = ref.strip().lower()
    kind = {"i": "invitation", "c": "connection"}.get(text[:1]) if text[:1] in ("i", "c") else None
    digits = text[1:] if kind else text
    if not digits.isdigit():
        raise LocalizedUsageError(t("{value} is not an id. Give a number as tautan list shows it: 12 (the "
                                    "invitation, else the connection), i12 (invitation) or c12 (connection).",
                                    value=ref))
    return kind, int(digits)
