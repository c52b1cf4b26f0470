"""The ``tautan`` command line (Click).

Every text it prints comes from the catalogs, in the language of ``--lang`` or of the
environment's locale. Exit codes: 0 on success, 1 on a user error (one localized line on
stderr), 2 on a usage error.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, NoReturn

import click

from tautan.settings import Settings
from tautan.wiring import Container
from tautan.core import services
from tautan.core.errors import TautanError
from tautan.core.i18n import N_, SUPPORTED_LOCALES, Translator, normalize_locale, translator
from tautan.core.model import DOCUMENT_TYPES, Role, Status
from tautan.core.transitions import STATUS_LABELS, Side
from tautan.core.views import (
    DOCUMENT_TYPE_LABELS,
    VIA_LABELS,
    EVENT_LABELS,
    INVITATION_STATUS_LABELS,
    ConnectionView,
    EventView,
    InvitationView,
)
from tautan.mail.links import invitation_url, reply_address

log = logging.getLogger("tautan")

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE = 0, 1, 2
CLI_ACTOR = "cli:" + (os.environ.get("USER") or "operator")


class LocalizedUsageError(click.UsageError):
    """A usage error whose message is already in the reader's language."""


class UnknownCommand(click.UsageError):
    def __init__(self, name: str, ctx: click.Context | None = None) -> None:
        super().__init__(name, ctx)
        self.name = name


def _localized(t: Translator) -> tuple[type[click.Command], type[click.Group]]:
    """Command and group classes whose built-in help texts come from our catalogs too."""

    class Localized:
        def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
            formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=t("Usage:") + " ")

        def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            rows = [r for p in self.get_params(ctx)  # type: ignore[attr-defined]
                    if not isinstance(p, click.Argument) and (r := p.get_help_record(ctx))]
            if rows:
                with formatter.section(t("Options")):
                    formatter.write_dl(rows)
            if isinstance(self, click.Group):
                rows = [(name, command.get_short_help_str(60))
                        for name in self.list_commands(ctx)
                        if (command := self.get_command(ctx, name)) and not command.hidden]
                if rows:
                    with formatter.section(t("Commands")):
                        formatter.write_dl(rows)

        def get_help_option(self, ctx: click.Context) -> click.Option | None:
            option = super().get_help_option(ctx)  # type: ignore[misc]
            if option is not None:
                option.help = t("Show this message and exit.")
            return option

    class Command(Localized, click.Command):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("options_metavar", t("[OPTIONS]"))
            super().__init__(*args, **kwargs)

    class Group(Localized, click.Group):
        command_class = Command

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("options_metavar", t("[OPTIONS]"))
            kwargs.setdefault("subcommand_metavar", t("COMMAND [ARGS]..."))
            super().__init__(*args, **kwargs)

        def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
            name = args[0] if args else ""
            if self.get_command(ctx, name) is None and not name.startswith("-"):
                raise UnknownCommand(name, ctx)
            return super().resolve_command(ctx, args)

    Group.group_class = Group
    return Command, Group


def build_cli(t: Translator) -> click.Group:
    Command, Group = _localized(t)
    lang_choice = click.Choice(SUPPORTED_LOCALES, case_sensitive=False)
    json_flag = click.option("--json", "as_json", is_flag=True, help=t("Print JSON instead of text."))
    output_lang = click.option("--lang", "_lang", type=lang_choice, expose_value=True,
                               help=t("Language of the output (en or id)."))

    @click.group(cls=Group, help=t("tautan connects customers with their suppliers, from Slack and email."))
    @click.option("--lang", "_lang", type=lang_choice, help=t("Language of the output (en or id)."))
    @click.pass_context
    def cli(ctx: click.Context, _lang: str | None) -> None:
        ctx.obj = Container(Settings.from_env())
        ctx.call_on_close(ctx.obj.close)

    @cli.group(cls=Group, help=t("Manage the database."))
    def db() -> None:
        pass

    @db.command("upgrade", help=t("Apply the database migrations."))
    @output_lang
    @click.pass_obj
    def db_upgrade(container: Container, _lang: str | None) -> None:
        from tautan.db import upgrade
        from tautan.core.errors import Unavailable
        from sqlalchemy import exc as sa_exc

        try:
            upgrade(container.settings.database_url)
        except sa_exc.OperationalError:
            raise Unavailable() from None
        click.echo(t("The database is up to date."))

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
            return _print_json(asdict(view))
        if view.parent_id:
            click.echo(t("Unit {name} added (id {id}).", name=view.display_name, id=view.id))
        else:
            click.echo(t("Company {name} added (id {id}).", name=view.name, id=view.id))

    @cli.command(help=t("Invite a supplier contact to connect."))
    @click.argument("email")
    @click.option("--customer", required=True, metavar=t("NAME"), help=t("The inviting customer company."))
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
            return _print_json({**_invitation_json(view), "reply_to": reply_to, "link": link})
        if not view.created:
            click.echo(t("{email} already has a live invitation from {customer}; here it is.",
                         email=view.email, customer=view.customer))
        _print_invitation(t, view)
        click.echo(t("Reply-To: {address}", address=reply_to))
        click.echo(t("Link: {url}", url=link))

    @cli.command("import", help=t("Invite many suppliers from a CSV file: email, supplier name, types, language, "
                                  "message (a header row names the columns; only email is required)."))
    @click.argument("path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
    @click.option("--customer", required=True, metavar=t("NAME"), help=t("The inviting customer company."))
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
            return _print_json(results)
        failed = [r for r in results if r["error"]]
        for row in failed:
            click.echo(t("Line {line}: {error}", line=row["line"], error=row["error"]), err=True)
        click.echo(t("{invited} invited, {existing} already invited, {failed} not imported.",
                     invited=t.number(sum(1 for r in results if r["status"] == "invited")),
                     existing=t.number(sum(1 for r in results if r["status"] == "existing")),
                     failed=t.number(len(failed))))
        if failed:
            raise SystemExit(EXIT_USER_ERROR)

    @cli.command("list", help=t("List connections, newest change first."))
    @click.option("--customer", metavar=t("NAME"), help=t("Connections of this customer."))
    @click.option("--supplier", metavar=t("NAME"), help=t("Connections of this supplier."))
    @click.option("--unit", metavar=t("NAME"), help=t("Only this unit of the customer."))
    @click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in Status]),
                  help=t("Only this status (may be repeated)."))
    @click.option("--type", "types", multiple=True, type=click.Choice(DOCUMENT_TYPES),
                  help=t("Only this document type (may be repeated)."))
    @click.option("--partner", metavar=t("TEXT"), help=t("Only partners whose name contains this text."))
    @click.option("--page", default=1, show_default=True, type=click.IntRange(min=1), help=t("Page number."))
    @click.option("--per-page", default=50, show_default=True, type=click.IntRange(1, services.MAX_PER_PAGE),
                  help=t("Rows per page."))
    @output_lang
    @json_flag
    @click.pass_obj
    def list_(container: Container, customer: str | None, supplier: str | None, unit: str | None,
              statuses: Sequence[str], types: Sequence[str], partner: str | None, page: int,
              per_page: int, _lang: str | None, as_json: bool) -> None:
        if customer and supplier:
            raise LocalizedUsageError(t("Use --customer or --supplier, not both."))
        side = Side.SUPPLIER if supplier else Side.CUSTOMER
        result = services.search(container.uow(), company=supplier or customer, side=side, unit=unit,
                                 partner=partner, types=types, statuses=statuses, page=page,
                                 per_page=per_page)
        if as_json:
            return _print_json({"total": result.total, "page": result.page, "per_page": result.per_page,
                                "pages": result.pages, "items": [_connection_json(c) for c in result.items]})
        if not result.items:
            click.echo(t("No connections match."))
            return
        _print_table(t, result.items)
        click.echo(t("Page {page} of {pages} · {total} connections in all.", page=t.number(result.page),
                     pages=t.number(result.pages), total=t.number(result.total)))

    @cli.command(help=t("Show an invitation, its connections and their history."))
    @click.argument("invitation_id", metavar="ID", type=int)
    @output_lang
    @json_flag
    @click.pass_obj
    def show(container: Container, invitation_id: int, _lang: str | None, as_json: bool) -> None:
        view = services.get_invitation(container.uow(), invitation_id=invitation_id)
        events = services.history(container.uow(), invitation_id=invitation_id)
        settings = container.settings
        if as_json:
            return _print_json({**_invitation_json(view),
                                "reply_to": reply_address(view.reply_token, settings.mail_domain),
                                "link": invitation_url(settings.public_base_url, settings.secret_keys,
                                                       view.id, view.reply_token),
                                "history": [_event_json(e) for e in events]})
        _print_invitation(t, view)
        click.echo(t("History:"))
        for event in events:
            click.echo("  " + _event_line(t, event))

    def answer(name: str, help_text: str, service: Callable[..., InvitationView], done: str) -> None:
        @cli.command(name, help=help_text)
        @click.argument("invitation_id", metavar="ID", type=int)
        @output_lang
        @json_flag
        @click.pass_obj
        def command(container: Container, invitation_id: int, _lang: str | None, as_json: bool) -> None:
            view = service(container.uow(), invitation_id=invitation_id, actor=CLI_ACTOR, via="cli")
            if as_json:
                return _print_json(_invitation_json(view))
            click.echo(t(done, id=view.id, supplier=view.supplier, customer=view.customer))

    answer("resend", t("Send an invitation again (also an undeliverable or expired one)."), services.resend,
           N_("Invitation {id} to {supplier} will be sent again."))
    answer("cancel", t("Cancel an invitation that has not been answered."), services.cancel,
           N_("Invitation {id} to {supplier} is cancelled."))
    answer("accept", t("Accept an invitation for the supplier (operators only)."), services.accept,
           N_("{supplier} is now connected to {customer} (invitation {id})."))
    answer("decline", t("Decline an invitation for the supplier (operators only)."), services.decline,
           N_("{supplier} declined the invitation from {customer} (invitation {id})."))

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

    return cli


# --- output ----------------------------------------------------------------------------------

def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _connection_json(c: ConnectionView) -> dict[str, Any]:
    return {**asdict(c), "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat()}


def _invitation_json(v: InvitationView) -> dict[str, Any]:
    return {"id": v.id, "status": v.status, "created": v.created, "customer": v.customer, "unit": v.unit,
            "supplier": v.supplier, "email": v.email, "lang": v.lang, "message": v.message,
            "types": list(v.types), "inviter": v.inviter, "created_at": v.created_at.isoformat(),
            "expires_at": v.expires_at.isoformat(),
            "closed_at": v.closed_at.isoformat() if v.closed_at else None,
            "connections": [_connection_json(c) for c in v.connections]}


def _event_json(e: EventView) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "actor": e.actor, "via": e.via, "at": e.at.isoformat(),
            "connection_id": e.connection_id, "invitation_id": e.invitation_id, "details": dict(e.details)}


def _types(t: Translator, codes: Sequence[str]) -> str:
    return t.list(t(DOCUMENT_TYPE_LABELS[c].message_id) if c in DOCUMENT_TYPE_LABELS else c for c in codes)


def _print_invitation(t: Translator, v: InvitationView) -> None:
    click.echo(t("Invitation {id} from {customer} to {supplier} <{email}>", id=v.id, customer=v.customer,
                 supplier=v.supplier, email=v.email))
    click.echo("  " + t("Document types: {types}", types=_types(t, v.types)))
    click.echo("  " + t("Status: {status}", status=t(INVITATION_STATUS_LABELS[v.status].message_id)))
    click.echo("  " + t("Language of the invitation: {lang}", lang=v.lang))
    click.echo("  " + t("Expires: {date}", date=t.datetime(v.expires_at)))
    if v.message:
        click.echo("  " + t("Message: {message}", message=v.message))


def _print_table(t: Translator, rows: Sequence[ConnectionView]) -> None:
    header = [t("ID"), t("Customer"), t("Supplier"), t("Type"), t("Status"), t("Invitation"), t("Last change")]
    body = [[str(c.id), c.customer, c.supplier, t(DOCUMENT_TYPE_LABELS[c.type].message_id),
             t(STATUS_LABELS[Status(c.status)].message_id), str(c.invitation_id or "–"),
             t.datetime(c.updated_at, format="short")] for c in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _event_line(t: Translator, e: EventView) -> str:
    label = EVENT_LABELS.get(e.kind)
    what = t(label.message_id) if label else e.kind
    kind_type = e.details.get("type")
    if kind_type:
        what = t("{event} ({type})", event=what, type=t(DOCUMENT_TYPE_LABELS[kind_type].message_id))
    return t("{at} · {event} · by {actor} via {via}", at=t.datetime(e.at, format="short"), event=what,
             actor=e.actor, via=t(VIA_LABELS.get(e.via, e.via)))


# --- entry point -----------------------------------------------------------------------------

def output_locale(argv: Sequence[str], env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """The reader's language: ``--lang`` on the command line, else the environment's locale."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return normalize_locale(argv[i + 1], "en")
        if arg.startswith("--lang="):
            return normalize_locale(arg.split("=", 1)[1], "en")
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):
            return normalize_locale(env[name], normalize_locale(env.get("DEFAULT_LOCALE"), "en"))
    return normalize_locale(env.get("DEFAULT_LOCALE"), "en")


def main(argv: Sequence[str] | None = None) -> NoReturn:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    t = translator(output_locale(argv))
    cli = build_cli(t)
    try:
        cli.main(args=argv, prog_name="tautan", standalone_mode=False)
    except TautanError as error:
        _fail(t.error(error), EXIT_USER_ERROR)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as error:
        click.echo(error.ctx.get_help())
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        _fail(t("Aborted."), EXIT_USER_ERROR)
    except click.UsageError as error:
        _fail(_usage_message(t, error), EXIT_USAGE)
    except click.ClickException as error:
        _fail(t("This command line is not valid. Try 'tautan --help'."), error.exit_code)
    except KeyboardInterrupt:
        _fail(t("Aborted."), 130)
    except Exception:
        log.debug("unexpected error", exc_info=True)
        log.error("unexpected error in the command line", exc_info=os.environ.get("LOG_LEVEL") == "DEBUG")
        _fail(t("Something went wrong on our side. Please try again later."), EXIT_USER_ERROR)
    sys.exit(EXIT_OK)


def _usage_message(t: Translator, error: click.UsageError) -> str:
    command = error.ctx.command_path if error.ctx else "tautan"
    hint = t("Try '{command} --help'.", command=command)
    if isinstance(error, LocalizedUsageError):
        text = error.message
    elif isinstance(error, UnknownCommand):
        text = t("Unknown command {name}.", name=error.name)
    elif isinstance(error, click.NoSuchOption):
        text = t("Unknown option {option}.", option=error.option_name)
    elif isinstance(error, click.MissingParameter):
        text = t("Missing {name}.", name=_param_name(error.param))
    elif isinstance(error, click.BadParameter):
        text = t("Invalid value for {name}.", name=_param_name(error.param))
    elif isinstance(error, click.BadOptionUsage):
        text = t("Option {option} needs a value.", option=error.option_name)
    else:
        text = t("This command line is not valid.")
    return f"{text} {hint}"


def _param_name(param: click.Parameter | None) -> str:
    if param is None:
        return "?"
    if isinstance(param, click.Option):
        return param.opts[0]
    return (param.metavar or param.name or "?").upper()


def _fail(message: str, code: int) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
