"""``tautan list``: connections seen from one company's side, filtered and paged; ``approve``,
``deny`` and ``disconnect``: the customer's decisions on one connection (the supplier is told by email)."""

from __future__ import annotations

from collections.abc import Sequence

import click

from tautan.cli import output
from tautan.cli.kit import CLI_ACTOR, Kit, LocalizedUsageError
from tautan.core import services
from tautan.core.i18n import N_
from tautan.core.model import DOCUMENT_TYPES, Status
from tautan.core.transitions import Side
from tautan.wiring import Container

# Far beyond any real listing; a larger number would overflow the database's OFFSET: a usage error.
MAX_PAGE = 1_000_000


def register(cli: click.Group, kit: Kit) -> None:
    """Add this module's commands to ``cli``."""
    t = kit.t
    json_flag, output_lang = kit.json_flag, kit.output_lang

    @cli.command("list", help=t("List connections, newest change first."))
    @click.option("--customer", metavar=t("NAME"), help=t("Connections of this customer (name or slug)."))
    @click.option("--supplier", metavar=t("NAME"), help=t("Connections of this supplier (name or slug)."))
    @click.option("--unit", metavar=t("NAME"), help=t("Only this unit of the customer."))
    @click.option("--status", "statuses", multiple=True, type=click.Choice([s.value for s in Status]),
                  help=t("Only this status (may be repeated)."))
    @click.option("--type", "types", multiple=True, type=click.Choice(DOCUMENT_TYPES),
                  help=t("Only this document type (may be repeated)."))
    @click.option("--partner", metavar=t("TEXT"), help=t("Only partners whose name contains this text."))
    @click.option("--page", default=1, show_default=True, type=click.IntRange(1, MAX_PAGE), help=t("Page number."))
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
            return output.print_json({"total": result.total, "total_exact": result.exact, "page": result.page,
                                      "per_page": result.per_page, "pages": result.pages,
                                      "items": [output.connection_json(c) for c in result.items]})
        if not result.items:
            click.echo(t("No connections match."))
            return
        output.print_table(t, result.items)
        if result.exact:
            click.echo(t("Page {page} of {pages} · {total} connections in all.", page=t.number(result.page),
                         pages=t.number(result.pages), total=t.number(result.total)))
        else:
            click.echo(t("Page {page} · more than {total} connections match.", page=t.number(result.page),
                         total=t.number(result.total)))


    def decision(name: str, help_text: str, done: str) -> None:
        @cli.command(name, help=help_text)
        @click.argument("connection_id", metavar="CONN_ID", type=int)
        @click.option("--reason", metavar=t("TEXT"), help=t("Why (optional); the supplier is told."))
        @output_lang
        @json_flag
        @click.pass_obj
        def command(container: Container, connection_id: int, reason: str | None, _lang: str | None,
                    as_json: bool) -> None:
            if name == "approve":
                if reason:
                    raise LocalizedUsageError(t("--reason is for deny and disconnect."))
                view = services.approve(container.uow(), connection_id=connection_id, actor=CLI_ACTOR, via="cli")
            elif name == "deny":
                view = services.deny(container.uow(), connection_id=connection_id, reason=reason, actor=CLI_ACTOR,
                                     via="cli")
            else:
                view = services.disconnect(container.uow(), connection_id=connection_id, side=Side.CUSTOMER,
                                           reason=reason, actor=CLI_ACTOR, via="cli")
            if as_json:
                return output.print_json(output.connection_json(view))
            click.echo(t(done, id=view.id, supplier=view.supplier, customer=view.customer,
                         type=output.types(t, [view.type])))

    decision("approve", t("Approve a supplier's request to connect."),
             N_("Connection {id}: {supplier} is now connected to {customer} for {type}."))
    decision("deny", t("Deny a supplier's request to connect."),
             N_("Connection {id}: the request of {supplier} to {customer} for {type} is denied."))
    decision("disconnect", t("End a connection with a supplier."),
             N_("Connection {id}: {supplier} and {customer} are no longer connected for {type}."))
