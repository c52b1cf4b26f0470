"""The read side for adapters: plain functions that take a unit of work and hand back frozen views.

Adapters never query the model themselves; what a Slack workspace (or any other caller acting for
one customer company) may see is decided here. A customer's *scope* is the company and its units;
an id outside it is answered exactly like an id that does not exist (``NotFound``), so one company
can never learn whether another company's invitation or connection exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, union_all
from sqlalchemy.orm import Session, selectinload

from tautan.core.errors import InvalidInput, NotFound
from tautan.core.events import EventKind
from tautan.core.i18n import N_
from tautan.core.model import Company, Connection, DocumentType, Event, Invitation, search_key
from tautan.core.services._base import _escape_like, _status, _type_codes
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ActivityView,
    ConnectionView,
    DashboardView,
    InvitationView,
    NoticeView,
    Page,
    PartnerView,
    SupplierChoice,
    UnitView,
    connection_view,
    invitation_view,
)

MAX_ACTIVITY = 10
MAX_PARTNERS_PER_PAGE = 50
MAX_CHOICES = 100  # Slack shows at most 100 options in a menu


def scope(uow: UnitOfWork, company_id: int) -> frozenset[int]:
    """The company and its units: the only customers whose data its people see."""
    with uow:
        return frozenset(uow.session.scalars(select(Company.id).where(
            or_(Company.id == company_id, Company.parent_id == company_id))))


def units(uow: UnitOfWork, company_id: int) -> tuple[UnitView, ...]:
    """The units of a customer company, by name."""
    with uow:
        rows = uow.session.execute(select(Company.id, Company.name).where(Company.parent_id == company_id)
                                   .order_by(Company.name_key)).all()
    return tuple(UnitView(id=row.id, name=row.name) for row in rows)


def owned_invitation(uow: UnitOfWork, *, company_id: int, invitation_id: int) -> InvitationView:
    """The invitation, if it was sent by the company or one of its units; else NotFound, the same
    answer as for an id that does not exist."""
    with uow:
        invitation = uow.session.get(Invitation, invitation_id)
        if invitation is None or company_id not in (invitation.customer_id, invitation.customer.parent_id):
            raise NotFound(N_("There is no invitation with id {id}."), id=invitation_id)
        return invitation_view(invitation)


def owned_connection(uow: UnitOfWork, *, company_id: int, connection_id: int) -> ConnectionView:
    """The connection, if its customer is the company or one of its units; else NotFound."""
    with uow:
        connection = uow.session.get(Connection, connection_id)
        if connection is None or company_id not in (connection.customer_id, connection.customer.parent_id):
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        return connection_view(connection)


def dashboard(uow: UnitOfWork, company_id: int, *, activity: int = MAX_ACTIVITY) -> DashboardView:
    """Counts by status (the company and its units together) and the recent activity."""
    with uow:
        session = uow.session
        company = session.get(Company, company_id)
        if company is None:
            raise NotFound(N_("There is no company called {name}."), name=company_id)
        members = [company.id, *(u.id for u in company.units)]
        counts = {status: count for status, count in session.execute(
            select(Connection.status, func.count()).where(Connection.customer_id.in_(members))
            .group_by(Connection.status))}
        # A change for three types (an invitation, a request) is three events at one moment: read a
        # few more, show them as one line.
        events = session.scalars(
            select(Event).where(Event.customer_id.in_(members))
            .order_by(Event.at.desc(), Event.id.desc()).limit(activity * 4)
            .options(selectinload(Event.supplier)))
        lines: list[ActivityView] = []
        last_key: tuple[Any, ...] | None = None
        for event in events:
            details = event.details or {}
            key = (event.kind, event.invitation_id, event.supplier_id, event.at)
            code = details.get("type")
            if key == last_key and lines:
                if code and code not in lines[-1].types:
                    previous = lines[-1]
                    lines[-1] = ActivityView(previous.kind, previous.partner, (code, *previous.types), previous.at)
                continue
            if len(lines) == activity:
                break
            last_key = key
            partner = event.supplier.name if event.supplier is not None else details.get("name")
            lines.append(ActivityView(event.kind, partner, (code,) if code else (), event.at))
        return DashboardView(company_id=company.id, company=company.name,
                             units=tuple(u.name for u in company.units), counts=counts, activity=tuple(lines))


def notice(uow: UnitOfWork, event_ids: Sequence[int]) -> NoticeView | None:
    """The notice behind some events (one change), or None when they are gone."""
    if not event_ids:
        return None
    with uow:
        events = list(uow.session.scalars(
            select(Event).where(Event.id.in_(list(event_ids))).order_by(Event.id).options(
                selectinload(Event.supplier),
                selectinload(Event.customer).selectinload(Company.parent),
                selectinload(Event.connection).selectinload(Connection.document_type),
                selectinload(Event.invitation).selectinload(Invitation.connections)
                .selectinload(Connection.document_type))))
        if not events or events[0].customer is None:
            return None
        first = events[0]
        types: list[str] = []
        for event in events:
            code = (event.details or {}).get("type") or (
                event.connection.document_type.code if event.connection is not None else None)
            if code and code not in types:
                types.append(code)
        if not types and first.invitation is not None:  # a bounce or a renewal: the invitation's types
            types = first.invitation.type_codes
        customer = first.customer
        assert customer is not None  # checked above: a notice is always about a customer
        return NoticeView(
            kind=first.kind, company_id=customer.root.id,
            supplier=first.supplier.name if first.supplier is not None else "",
            email=(first.details or {}).get("email") or (first.invitation.email if first.invitation else None),
            unit=customer.name if customer.parent_id is not None else None,
            types=tuple(types), reason=(first.details or {}).get("reason"),
            invitation_id=first.invitation_id,
            connections=tuple((e.connection.id, e.connection.document_type.code) for e in events
                              if e.kind == "requested" and e.connection is not None),
            similar_to=(first.details or {}).get("similar_to"), duplicate_of=(first.details or {}).get("duplicate_of"))


# --- partners: one row per supplier ---------------------------------------------------------------

def _members(company_id: int) -> Select[Any]:
    """The company and its units, as a subquery: every query below is scoped by it."""
    return select(Company.id).where(or_(Company.id == company_id, Company.parent_id == company_id))


def partners(uow: UnitOfWork, *, company_id: int, partner: str | None = None, types: Sequence[str] = (),
             statuses: Sequence[str] = (), supplier_id: int | None = None, page: int = 1,
             per_page: int = 10) -> Page[PartnerView]:
    """The company's suppliers, one item per supplier with its connections (the company's and its
    units'), the most recently changed supplier first; paged by supplier, in the database.
    ``types`` and ``statuses`` keep only the matching connections (and so the suppliers that have
    one); ``partner`` matches the supplier's name as a case-insensitive, Unicode-safe substring."""
    if page < 1 or not 1 <= per_page <= MAX_PARTNERS_PER_PAGE:
        raise InvalidInput(N_("Page numbers start at 1 and a page holds 1 to {max} rows."),
                           max=MAX_PARTNERS_PER_PAGE)
    wanted = [_status(s) for s in statuses]
    codes = _type_codes(types) if types else []
    filters: list[ColumnElement[bool]] = []
    if wanted:
        filters.append(Connection.status.in_(wanted))
    if codes:
        filters.append(Connection.type_id.in_(select(DocumentType.id).where(DocumentType.code.in_(codes))))
    if partner and partner.strip():
        pattern = "%" + _escape_like(search_key(partner)) + "%"
        filters.append(Connection.supplier_id.in_(
            select(Company.id).where(Company.search_name.like(pattern, escape="\\"))))
    if supplier_id is not None:
        filters.append(Connection.supplier_id == supplier_id)
    with uow:
        session = uow.session
        members = list(session.scalars(_members(company_id)))
        scope = Connection.customer_id.in_(members)
        total = session.scalar(select(func.count(func.distinct(Connection.supplier_id))).where(scope, *filters)) or 0
        chosen = _newest_suppliers(session, members, filters, skip=(page - 1) * per_page, take=per_page)
        ids = [row[0] for row in chosen]
        found = session.scalars(
            select(Connection).where(scope, *filters, Connection.supplier_id.in_(ids))
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type))
            .order_by(Connection.type_id)) if ids else ()
        by_supplier: dict[int, list[ConnectionView]] = {}
        for connection in found:
            by_supplier.setdefault(connection.supplier_id, []).append(connection_view(connection))
    items = []
    for supplier, last_change in chosen:
        # The company's own first, then its units by name; sorting is stable, so types stay in order.
        lines = sorted(by_supplier.get(supplier, ()),
                       key=lambda c: (c.customer_id != company_id, search_key(c.customer)))
        if lines:
            items.append(PartnerView(supplier_id=supplier, supplier=lines[0].supplier, last_change=last_change,
                                     connections=tuple(lines)))
    return Page(items=tuple(items), total=total, page=page, per_page=per_page)


def _newest_suppliers(session: Session, members: Sequence[int], filters: Sequence[ColumnElement[bool]], *,
                      skip: int, take: int) -> list[tuple[int, dt.datetime]]:
    """Suppliers in the order of their newest change (and when it was), ``skip`` of them left out
    and at most ``take`` kept. A walk down the newest-first index of the connections, only as far
    as it takes to meet that many suppliers: grouping every row first would sort them all. With
    units, one ordered branch per company, merged (as ``services.search`` does)."""
    wanted = skip + take
    limit = max(4 * wanted, 32)
    newest = (Connection.updated_at.desc(), Connection.id.desc())
    while members:
        if len(members) == 1:
            query = (select(Connection.supplier_id, Connection.updated_at)
                     .where(Connection.customer_id == members[0], *filters).order_by(*newest).limit(limit))
        else:
            branches = [select(Connection.id, Connection.supplier_id, Connection.updated_at)
                        .where(Connection.customer_id == member, *filters).order_by(*newest).limit(limit).subquery()
                        for member in members]
            merged = union_all(*(select(b.c.id, b.c.supplier_id, b.c.updated_at) for b in branches)).subquery()
            query = (select(merged.c.supplier_id, merged.c.updated_at)
                     .order_by(merged.c.updated_at.desc(), merged.c.id.desc()).limit(limit))
        rows = session.execute(query).all()
        seen: dict[int, dt.datetime] = {}
        for supplier, at in rows:
            seen.setdefault(supplier, at)
        if len(seen) >= wanted or len(rows) < limit:  # enough suppliers, or every matching row read
            return list(seen.items())[skip:wanted]
        limit *= 4
    return []


def partner(uow: UnitOfWork, *, company_id: int, supplier_id: int) -> PartnerView:
    """One supplier of the company with all its connections; NotFound when it has none with the
    company or its units, the same answer as for a supplier that does not exist."""
    found = partners(uow, company_id=company_id, supplier_id=supplier_id, per_page=1).items
    if not found:
        raise NotFound(N_("There is no supplier with id {id}."), id=supplier_id)
    return found[0]


def supplier_choices(uow: UnitOfWork, *, company_id: int, text: str = "",
                     limit: int = MAX_CHOICES) -> tuple[SupplierChoice, ...]:
    """The company's suppliers (those with a connection to it or one of its units) whose name, or
    an address the company invited them at or heard from them at, contains ``text``
    (case-insensitive), by name; at most ``limit``. Another company's suppliers and addresses are
    never searched."""
    members = _members(company_id)
    ours = select(Connection.supplier_id).where(Connection.customer_id.in_(members))
    query = select(Company.id, Company.name).where(Company.id.in_(ours))
    typed = " ".join(text.split())
    if typed:
        key = _escape_like(search_key(typed))
        invited_at = select(Invitation.supplier_id).where(
            Invitation.customer_id.in_(members), func.lower(Invitation.email).like(f"%{key}%", escape="\\"))
        heard_from = select(Event.supplier_id).where(
            Event.customer_id.in_(members), Event.kind == EventKind.REQUESTED,
            func.lower(Event.actor).like(f"email:%{key}%", escape="\\"))
        query = query.where(or_(Company.search_name.like(f"%{key}%", escape="\\"), Company.id.in_(invited_at),
                                Company.id.in_(heard_from)))
    with uow:
        session = uow.session
        rows = session.execute(query.order_by(Company.name_key, Company.id)
                               .limit(max(1, min(limit, MAX_CHOICES)))).all()
        addresses = _addresses(session, company_id, [row.id for row in rows])
    return tuple(SupplierChoice(id=row.id, name=row.name, email=_best(addresses.get(row.id, []), typed))
                 for row in rows)


def supplier_addresses(uow: UnitOfWork, *, company_id: int, supplier_id: int) -> tuple[str, ...]:
    """The addresses the company (or one of its units) invited the supplier at, newest first, then
    those the supplier asked to connect from; NotFound when it is not one of the company's suppliers."""
    with uow:
        session = uow.session
        ours = session.scalar(select(func.count()).select_from(Connection).where(
            Connection.customer_id.in_(_members(company_id)), Connection.supplier_id == supplier_id))
        if not ours:
            raise NotFound(N_("There is no supplier with id {id}."), id=supplier_id)
        return tuple(_addresses(session, company_id, [supplier_id]).get(supplier_id, ()))


def _addresses(session: Any, company_id: int, supplier_ids: Sequence[int]) -> dict[int, list[str]]:
    if not supplier_ids:
        return {}
    members = _members(company_id)
    found: dict[int, list[str]] = {}
    invited = session.execute(
        select(Invitation.supplier_id, Invitation.email)
        .where(Invitation.customer_id.in_(members), Invitation.supplier_id.in_(list(supplier_ids)))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc()))
    asked = session.execute(
        select(Event.supplier_id, Event.actor)
        .where(Event.customer_id.in_(members), Event.supplier_id.in_(list(supplier_ids)),
               Event.kind == EventKind.REQUESTED, Event.actor.like("email:%"))
        .order_by(Event.at.desc(), Event.id.desc()))
    for supplier, address in [*invited, *((s, a.removeprefix("email:")) for s, a in asked)]:
        known = found.setdefault(supplier, [])
        if address and address.lower() not in known:
            known.append(address.lower())
    return found


def _best(addresses: Sequence[str], typed: str) -> str | None:
    """The address to show next to a supplier: one that contains what was typed, else the newest."""
    key = search_key(typed)
    return next((a for a in addresses if key and key in a), addresses[0] if addresses else None)
