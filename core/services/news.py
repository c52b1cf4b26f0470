"""What the supplier hears of the customer's decisions: one email per decision to each contact of
the supplier company, in that contact's language, threaded with the invitation it answers."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from tautan.core.events import Channel
from tautan.core.model import Company, Connection, Membership, Outbox, Person
from tautan.core.uow import UnitOfWork

DECISION = "decision"
# The decisions a supplier is told of (the payload's ``decision``).
DECISIONS = ("approved", "denied", "cancelled", "disconnected", "waiting")


def contacts_of(uow: UnitOfWork, supplier: Company) -> list[Person]:
    return list(uow.session.scalars(
        select(Person).join(Membership, Membership.person_id == Person.id)
        .where(Membership.company_id == supplier.id).order_by(Person.email)))


def tell_supplier(uow: UnitOfWork, connections: Sequence[Connection], decision: str, *,
                  reason: str | None = None) -> None:
    """Queue the news of ``decision`` about ``connections`` (one supplier, one customer)."""
    if not connections or decision not in DECISIONS:
        raise ValueError(f"no news for {decision!r}")
    first = connections[0]
    supplier, customer = first.supplier, first.customer
    thread = None
    if first.invitation_id is not None:
        # The original invitation email, so the news lands in the same conversation.
        thread = uow.session.scalars(
            select(Outbox).where(Outbox.invitation_id == first.invitation_id, Outbox.kind == "invitation")
            .order_by(Outbox.id).limit(1)).first()
    for person in contacts_of(uow, supplier):
        uow.enqueue(channel=Channel.EMAIL, kind=DECISION, recipient=person.email,
                    lang=person.locale or supplier.locale, decision=decision, customer=customer.display_name,
                    customer_id=customer.id, supplier=supplier.name, types=[c.document_type.code for c in connections],
                    connection_ids=[c.id for c in connections], reason=reason,
                    thread=[thread.id, f"{thread.created_at:%Y%m%d%H%M%S}"] if thread is not None else None)
