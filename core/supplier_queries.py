"""What the supplier page reads: one supplier company's connections grouped by customer, filtered
and paged; the history of one connection; people named as people read them. Plain functions that
take the unit of work, like the other read-side functions; they only ever see the given
supplier's rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from tautan.core.errors import InvalidInput, NotFound
from tautan.core.i18n import N_
from tautan.core.model import Company, Connection, DocumentType, Event, Person, Status, search_key
from tautan.core.services._base import _escape_like
from tautan.core.transitions import TRANSITIONS, Action, Side
from tautan.core.uow import UnitOfWork
from tautan.core.views import Page, join_path

MAX_PER_PAGE = 100

# What the supplier's side may do from each status, in the order the page shows the buttons.
SUPPLIER_ACTIONS = (Action.ACCEPT, Action.DECLINE, Action.REQUEST, Action.CANCEL, Action.DISCONNECT)


def supplier_actions(status: Status | str) -> tuple[Action, ...]:
    """The actions the transition table allows the supplier from ``status``."""
    current = Status(status)
    return tuple(a for a in SUPPLIER_ACTIONS
                 if (rule := TRANSITIONS.get((a, current))) is not None and Side.SUPPLIER in rule.by)


@dataclass(frozen=True)
class Actor:
    """Who acted, as a person reads it: ``person`` (``name`` is a name or an address), an
    administrator of the customer ``customer`` (``name`` is the customer), or ``system``."""

    kind: str
    name: str


@dataclass(frozen=True)
class ConnectionLine:
    id: int
    type: str
    status: str
    updated_at: dt.datetime
    actor: Actor | None
    via: str | None
    reason: str | None
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class CustomerGroup:
    customer_id: int
    customer: str
    last_change: dt.datetime
    lines: tuple[ConnectionLine, ...]
    join_path: str = ""  # the customer's (or unit's) join page, to ask for more


@dataclass(frozen=True)
class HistoryEntry:
    kind: str
    at: dt.datetime
    actor: Actor
    via: str
    status: str | None
    reason: str | None


@dataclass(frozen=True)
class ConnectionHistory:
    connection: ConnectionLine
    customer: str
    entries: tuple[HistoryEntry, ...]


def connections(uow: UnitOfWork, *, supplier_id: int, customer: str | None = None, type: str | None = None,
                status: str | None = None, page: int = 1, per_page: int = 20) -> Page[CustomerGroup]:
    """The supplier's connections, one group per customer (or unit), the most recently changed
    customer first. ``customer`` matches the customer's or its parent's name (a substring,
    Unicode-safe, case-insensitive); ``type`` and ``status`` keep only those lines."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(N_("Page numbers start at 1 and a page holds 1 to {max} rows."), max=MAX_PER_PAGE)
    if status and status not in set(Status):
        raise InvalidInput(N_("Unknown status {status}. Known statuses: {known}."),
                           status=status, known=[s.value for s in Status])
    with uow:
        session = uow.session
        filters: list[ColumnElement[bool]] = [Connection.supplier_id == supplier_id]
        if status:
            filters.append(Connection.status == status)
        if type:
            type_id = session.scalar(select(DocumentType.id).where(DocumentType.code == type))
            if type_id is None:
                raise InvalidInput(N_("Unknown document type {type}. Known types: {known}."), type=type,
                                   known=list(session.scalars(select(DocumentType.code).order_by(DocumentType.id))))
            filters.append(Connection.type_id == type_id)
        if customer and customer.strip():
            pattern = "%" + _escape_like(search_key(customer)) + "%"
            own, parent = aliased(Company), aliased(Company)
            named = select(own.id).outerjoin(parent, parent.id == own.parent_id).where(
                or_(own.search_name.like(pattern, escape="\\"), parent.search_name.like(pattern, escape="\\")))
            filters.append(Connection.customer_id.in_(named))
        last = func.max(Connection.updated_at).label("last")
        grouped = select(Connection.customer_id, last).where(*filters).group_by(Connection.customer_id)
        total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
        chosen = session.execute(grouped.order_by(last.desc(), Connection.customer_id)
                                 .offset((page - 1) * per_page).limit(per_page)).all()
        ids = [row[0] for row in chosen]
        rows = list(session.scalars(
            select(Connection).where(*filters, Connection.customer_id.in_(ids))
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.document_type))
            .order_by(Connection.type_id))) if ids else []
        latest = _latest_events(session, [c.id for c in rows])
        names = _Names(session, [e.actor for e in latest.values()])
        by_customer: dict[int, list[Connection]] = {}
        for connection in rows:
            by_customer.setdefault(connection.customer_id, []).append(connection)
        groups = []
        for customer_id, _last_change in chosen:
            lines = by_customer.get(customer_id, [])
            if not lines:
                continue
            groups.append(CustomerGroup(
                customer_id=customer_id, customer=lines[0].customer.display_name,
                last_change=max(c.updated_at for c in lines),
                lines=tuple(_line(c, latest.get(c.id), names) for c in lines),
                join_path=join_path(lines[0].customer)))
        return Page(items=tuple(groups), total=total, page=page, per_page=per_page)


def history(uow: UnitOfWork, *, supplier_id: int, connection_id: int) -> ConnectionHistory:
    """One of the supplier's connections and everything that happened to it, oldest first."""
    with uow:
        session = uow.session
        connection = session.get(Connection, connection_id)
        if connection is None or connection.supplier_id != supplier_id:
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        events = list(session.scalars(select(Event).where(Event.connection_id == connection.id)
                                      .order_by(Event.at, Event.id)))
        names = _Names(session, [e.actor for e in events])
        entries = tuple(HistoryEntry(kind=e.kind, at=e.at, actor=names.actor(e.actor, connection), via=e.via,
                                     status=_detail(e.details, "status"), reason=_detail(e.details, "reason"))
                        for e in events)
        line = _line(connection, events[-1] if events else None, names)
        return ConnectionHistory(connection=line, customer=connection.customer.display_name, entries=entries)


def _latest_events(session: Session, connection_ids: list[int]) -> dict[int, Event]:
    if not connection_ids:
        return {}
    newest = select(func.max(Event.id)).where(Event.connection_id.in_(connection_ids)).group_by(Event.connection_id)
    return {e.connection_id: e for e in session.scalars(select(Event).where(Event.id.in_(newest)))
            if e.connection_id is not None}


def _line(connection: Connection, event: Event | None, names: _Names) -> ConnectionLine:
    return ConnectionLine(
        id=connection.id, type=connection.document_type.code, status=connection.status,
        updated_at=connection.updated_at, actor=names.actor(event.actor, connection) if event else None,
        via=event.via if event else None, reason=_detail(event.details, "reason") if event else None,
        actions=supplier_actions(connection.status))


def _detail(details: Mapping[str, Any] | None, key: str) -> str | None:
    value = (details or {}).get(key)
    return str(value) if value else None


class _Names:
    """Actors as people read them: ``email:ana@…`` is Ana (or her address), a Slack user or the
    command line is an administrator of the customer; never an internal id."""

    def __init__(self, session: Session, actors: Iterable[str]) -> None:
        emails = {a.removeprefix("email:") for a in actors if a.startswith("email:")}
        self.people = {p.email: p.name for p in session.scalars(
            select(Person).where(Person.email.in_(emails)))} if emails else {}

    def actor(self, actor: str, connection: Connection) -> Actor:
        if actor.startswith("email:"):
            email = actor.removeprefix("email:")
            return Actor(kind="person", name=self.people.get(email) or email)
        if actor == "system":
            return Actor(kind="system", name="")
        return Actor(kind="customer", name=connection.customer.root.name)
