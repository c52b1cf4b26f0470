"""Reading connections and their history: search with filters and paging, and the events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select, union_all
from sqlalchemy.orm import aliased, selectinload

from tautan.core.errors import (
    InvalidInput,
    NotFound,
)
from tautan.core.i18n import N_
from tautan.core.model import (
    Company,
    Connection,
    DocumentType,
    Event,
    search_key,
)
from tautan.core.services._base import (
    MAX_PER_PAGE,
    CompanyRef,
    _company,
    _escape_like,
    _invitation,
    _status,
    _type_codes,
)
from tautan.core.transitions import Side
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ConnectionView,
    EventView,
    Page,
    connection_view,
    event_view,
)


def search(uow: UnitOfWork, *, company: CompanyRef | None = None, side: Side = Side.CUSTOMER,
           unit: str | None = None, partner: str | None = None, types: Sequence[str] = (),
           statuses: Sequence[str] = (), page: int = 1, per_page: int = 50) -> Page[ConnectionView]:
    """Connections seen from one company's side, filtered and paged in a stable order (newest
    change first, then id). ``company=None`` is the operator's view of every connection.

    ``partner`` matches the other side's name as a case-insensitive, Unicode-safe substring.
    """
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(N_("Page numbers start at 1 and a page holds 1 to {max} rows."), max=MAX_PER_PAGE)
    statuses = [_status(s) for s in statuses]
    type_codes = _type_codes(types) if types else []
    with uow:
        session = uow.session
        filters: list[ColumnElement[bool]] = []
        members: list[int] = []
        if company is not None:
            owner = _company(session, company, unit=unit if side is Side.CUSTOMER else None)
            if side is Side.CUSTOMER:
                members = [owner.id] if unit or owner.parent_id else [owner.id, *(u.id for u in owner.units)]
            else:
                filters.append(Connection.supplier_id == owner.id)
                if unit:
                    filters.append(Connection.customer_id.in_(
                        select(Company.id).where(Company.name_key == search_key(unit))))
        if statuses:
            filters.append(Connection.status.in_(statuses))
        if type_codes:
            filters.append(Connection.type_id.in_(
                select(DocumentType.id).where(DocumentType.code.in_(type_codes))))
        if partner and partner.strip():
            filters.append(_partner_filter(search_key(partner), side if company is not None else None))

        scope = [Connection.customer_id.in_(members)] if members else []
        # A partner's name is a substring search: a common word matches a large part of all
        # connections, and counting them all costs far more than the page. Such a search fetches
        # one row more than the page instead: it tells whether there is a next page.
        bounded = bool(partner and partner.strip())
        fetch = per_page + 1 if bounded else per_page
        newest_first = (Connection.updated_at.desc(), Connection.id.desc())
        if len(members) > 1:
            # A customer with units: one ordered branch per company, merged. Each branch walks its
            # own index in order, instead of the database sorting every row of every unit.
            window = (page - 1) * per_page + fetch
            branches = [select(Connection.id, Connection.updated_at)
                        .where(Connection.customer_id == member, *filters)
                        .order_by(*newest_first).limit(window).subquery() for member in members]
            merged = union_all(*(select(b.c.id, b.c.updated_at) for b in branches)).subquery()
            page_ids = (select(merged.c.id).order_by(merged.c.updated_at.desc(), merged.c.id.desc())
                        .limit(fetch).offset((page - 1) * per_page))
            listing = select(Connection).where(Connection.id.in_(page_ids))
        else:
            listing = (select(Connection).where(*scope, *filters)
                       .limit(fetch).offset((page - 1) * per_page))
        rows = session.scalars(
            listing.order_by(*newest_first)
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type)))
        found = [connection_view(c) for c in rows]
        items, more = tuple(found[:per_page]), len(found) > per_page
        if not bounded or (page > 1 and not items):  # past the last page: only a count can say where it is
            total = session.scalar(select(func.count()).select_from(Connection).where(*scope, *filters)) or 0
            exact = True
        else:  # more: "more than" the rows up to this page; else this page is the last
            total, exact = (page - 1) * per_page + len(items), not more
    return Page(items=items, total=total, page=page, per_page=per_page, exact=exact)


def _partner_filter(key: str, side: Side | None) -> ColumnElement[bool]:
    """The other side's name contains ``key`` (already case-folded). ``side=None``: either side."""
    pattern = "%" + _escape_like(key) + "%"
    if side is Side.SUPPLIER:  # the partner is the customer: a unit matches by its name or its parent's
        unit_company, parent = aliased(Company), aliased(Company)
        return Connection.customer_id.in_(
            select(unit_company.id).outerjoin(parent, unit_company.parent_id == parent.id)
            .where(or_(unit_company.search_name.like(pattern, escape="\\"),
                       parent.search_name.like(pattern, escape="\\"))))
    other = aliased(Company)
    named = select(other.id).where(other.search_name.like(pattern, escape="\\"))
    if side is Side.CUSTOMER:
        return Connection.supplier_id.in_(named)
    return or_(Connection.supplier_id.in_(named), Connection.customer_id.in_(named))


def get_connection(uow: UnitOfWork, *, connection_id: int) -> ConnectionView:
    """One connection, as ``list`` shows it."""
    with uow:
        connection = uow.session.get(Connection, connection_id)
        if connection is None:
            raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
        return connection_view(connection)


def history(uow: UnitOfWork, *, invitation_id: int | None = None,
            connection_id: int | None = None) -> list[EventView]:
    """The events of an invitation (all its connections) or of one connection, oldest first."""
    with uow:
        session = uow.session
        query = select(Event)
        if invitation_id is not None:
            _invitation(session, invitation_id, None)
            query = query.where(Event.invitation_id == invitation_id)
        elif connection_id is not None:
            if session.get(Connection, connection_id) is None:
                raise NotFound(N_("There is no connection with id {id}."), id=connection_id)
            query = query.where(Event.connection_id == connection_id)
        else:
            raise InvalidInput(N_("Say which invitation or connection."))
        return [event_view(e) for e in session.scalars(query.order_by(Event.at, Event.id))]


