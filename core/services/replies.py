"""What the email assistant needs to answer someone who wrote to us."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from tautan.core.model import (
    Company,
    Connection,
    Invitation,
    Membership,
    Person,
)
from tautan.core.uow import UnitOfWork
from tautan.core.views import (
    ConnectionView,
    connection_view,
)


def answer(uow: UnitOfWork, *, recipient: str, kind: str, lang: str, invitation_id: int | None = None,
           **payload: object) -> None:
    """Queue an answer to someone who wrote to us (an unclear reply, HELP, STATUS, a request)."""
    with uow:
        invitation = uow.session.get(Invitation, invitation_id) if invitation_id is not None else None
        uow.enqueue(channel="email", kind=kind, recipient=recipient, lang=lang, invitation=invitation, **payload)
        uow.commit()


def connections_of(uow: UnitOfWork, *, email: str, limit: int = 50) -> list[ConnectionView]:
    """The connections of the supplier companies an address belongs to (for STATUS by email):
    only its own, never anyone else's."""
    with uow:
        session = uow.session
        companies = select(Membership.company_id).join(Person, Person.id == Membership.person_id).where(
            Person.email == email.lower())
        rows = session.scalars(
            select(Connection).where(Connection.supplier_id.in_(companies))
            .options(selectinload(Connection.customer).selectinload(Company.parent),
                     selectinload(Connection.supplier), selectinload(Connection.document_type))
            .order_by(Connection.updated_at.desc(), Connection.id.desc()).limit(limit))
        return [connection_view(c) for c in rows]


