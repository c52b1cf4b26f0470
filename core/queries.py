"""The read side for adapters: plain functions that take a unit of work and hand back frozen views.

Adapters never query the model themselves; what a Slack workspace (or any other caller acting for
one customer company) may see is decided here. A customer's *scope* is the company and its units;
an id outside it is answered exactly like an id that does not exist (``NotFound``), so one company
can never learn whether another company's invitation or connection exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from tautan.core.errors import NotFound
from tautan.core.i18n import N_
from tautan.core.model import Company, Connection, Event, Invitation
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ActivityView,
    ConnectionView,
    DashboardView,
    InvitationView,
    NoticeView,
    UnitView,
    connection_view,
    invitation_view,
)

MAX_ACTIVITY = 10


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
