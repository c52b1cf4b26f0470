"""How the CLI prints what the services hand back: tables, invitations, history lines and JSON."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from tautan.core.i18n import Translator
from tautan.core.model import InvitationStatus, Status
from tautan.core.transitions import STATUS_LABELS
from tautan.core.views import (
    DOCUMENT_TYPE_LABELS,
    EVENT_LABELS,
    INVITATION_STATUS_LABELS,
    VIA_LABELS,
    ConnectionView,
    EventView,
    InvitationView,
    actor_text,
)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def connection_json(c: ConnectionView) -> dict[str, Any]:
    return {**asdict(c), "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat()}


def invitation_json(v: InvitationView) -> dict[str, Any]:
    return {"id": v.id, "status": v.status, "created": v.created, "customer": v.customer, "unit": v.unit,
            "supplier": v.supplier, "email": v.email, "lang": v.lang, "message": v.message,
            "types": list(v.types), "inviter": v.inviter, "created_at": v.created_at.isoformat(),
            "expires_at": v.expires_at.isoformat(),
            "closed_at": v.closed_at.isoformat() if v.closed_at else None,
            "connections": [connection_json(c) for c in v.connections]}


def event_json(e: EventView) -> dict[str, Any]:
    return {"id": e.id, "kind": e.kind, "actor": e.actor, "via": e.via, "at": e.at.isoformat(),
            "connection_id": e.connection_id, "invitation_id": e.invitation_id, "details": dict(e.details)}


def types(t: Translator, codes: Sequence[str]) -> str:
    return t.list(t(DOCUMENT_TYPE_LABELS[c].message_id) if c in DOCUMENT_TYPE_LABELS else c for c in codes)


def print_invitation(t: Translator, v: InvitationView) -> None:
    click.echo(t("Invitation {id} from {customer} to {supplier} <{email}>", id=v.id, customer=v.customer,
                 supplier=v.supplier, email=v.email))
    click.echo("  " + t("Document types: {types}", types=types(t, v.types)))
    status = t(INVITATION_STATUS_LABELS[InvitationStatus(v.status)].message_id)
    click.echo("  " + t("Status: {status}", status=status))
    click.echo("  " + t("Language of the invitation: {lang}", lang=v.lang))
    click.echo("  " + t("Expires: {date}", date=t.moment(v.expires_at)))
    if v.message:
        click.echo("  " + t("Message: {message}", message=v.message))
    click.echo("  " + t("Connections:"))
    for c in v.connections:
        click.echo("    " + t("Connection {id} · {type}: {status}", id=c.id,
                              type=t(DOCUMENT_TYPE_LABELS[c.type].message_id),
                              status=t(STATUS_LABELS[Status(c.status)].message_id)))


STATUS_STYLES = {Status.CONNECTED: "green", Status.INVITED: "yellow", Status.REQUESTED: "yellow",
                 Status.REJECTED: "red", Status.DISCONNECTED: "red", Status.CANCELLED: "dim", Status.EXPIRED: "dim"}


def console() -> Console:
    """Rich output on a terminal; plain text into pipes and files, and wherever NO_COLOR is set."""
    return Console(file=sys.stdout, highlight=False, soft_wrap=True, emoji=False)


def moment(value: dt.datetime) -> str:
    """A time in a table: ISO-like and sortable, with its zone (``2026-12-01 10:31 UTC``)."""
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def print_table(t: Translator, rows: Sequence[ConnectionView]) -> None:
    """Connections, one a line: ``Conn`` is the connection id (approve/deny/disconnect take it),
    ``Inv`` the invitation id (show/resend/cancel take it)."""
    header = [t("Conn"), t("Inv"), t("Customer"), t("Supplier"), t("Type"), t("Status"), t("Last change")]
    body = [[str(c.id), str(c.invitation_id or "–"), c.customer, c.supplier,
             t(DOCUMENT_TYPE_LABELS[c.type].message_id), t(STATUS_LABELS[Status(c.status)].message_id),
             moment(c.updated_at)] for c in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    out = console()
    heading = "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=False))
    out.print(Text(heading.rstrip(), style="bold"))
    for connection, row in zip(rows, body, strict=False):
        line = Text()
        for i, (cell, width) in enumerate(zip(row, widths, strict=False)):
            if i:
                line.append("  ")
            line.append(cell.ljust(width) if i < len(row) - 1 else cell,
                        style=STATUS_STYLES.get(Status(connection.status), "") if i == 5 else "")
        out.print(line)


def print_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain table: a bold header, columns as wide as their widest cell."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    out = console()
    out.print(Text("  ".join(c.ljust(w) for c, w in zip(header, widths, strict=False)).rstrip(), style="bold"))
    for row in rows:
        out.print(Text("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip()))


def print_connection(t: Translator, c: ConnectionView) -> None:
    click.echo(t("Connection {id}: {customer} and {supplier}", id=c.id, customer=c.customer, supplier=c.supplier))
    click.echo("  " + t("Document type: {type}", type=t(DOCUMENT_TYPE_LABELS[c.type].message_id)))
    click.echo("  " + t("Status: {status}", status=t(STATUS_LABELS[Status(c.status)].message_id)))
    if c.invitation_id:
        click.echo("  " + t("Invitation: {id}", id=c.invitation_id))
    click.echo("  " + t("Last change: {date}", date=moment(c.updated_at)))


def event_line(t: Translator, e: EventView) -> str:
    label = EVENT_LABELS.get(e.kind)
    what = t(label.message_id) if label else e.kind
    kind_type = e.details.get("type")
    if kind_type:
        what = t("{event} ({type})", event=what, type=t(DOCUMENT_TYPE_LABELS[kind_type].message_id))
    return t("{at} · {event} · by {actor} via {via}", at=t.moment(e.at), event=what,
             actor=actor_text(t, e.actor), via=t(VIA_LABELS.get(e.via, e.via)))

